-- wrk script: POST a new order with a unique order number per request; print a JSON summary.
local counter = 0
local thread_id = 0
local threads = {}
local token = os.getenv("WRK_AUTH")

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"order_number": "WRK-%d-%d-%d", "customer_name": "Bench", "shipping_address": "1 Load St",'
      .. ' "items": [{"sku": "W", "quantity": 1}]}', thread_id, os.time() % 100000, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = token}, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.2f, "req_per_s": %.1f, "errors": %d, '
      .. '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, seconds, summary.requests / seconds, errors,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end

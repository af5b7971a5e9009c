"""Which broker the failover bench kills as the Connect group's coordinator."""

import pytest

from bench.failover import offsets_partition


@pytest.mark.parametrize(
    ("group", "partitions", "expected"),
    [
        ("hello", 50, 99162322 % 50),  # "hello".hashCode() == 99162322
        ("polygenelubricants", 50, 0),  # hashCode() == Integer.MIN_VALUE: Utils.abs gives 0
        ("cdc-connect", 7, 756966849 % 7),  # hashCode() == -756966849: Math.abs, not a mask
    ],
)
def test_a_group_maps_to_its_offsets_partition_as_kafka_maps_it(group, partitions, expected):
    assert offsets_partition(group, partitions) == expected

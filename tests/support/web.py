"""Signing in to an admin: through a test client's form, or to a running app over HTTP."""

import re

import requests

from ordersync import topology

# every user the in-process apps are given signs in with it
PASSWORD = "correct horse battery staple"


TOKEN_PATH = "/api/v1/auth/token"


def csrf_token(html: str) -> str:
    """Pull the CSRF token out of a rendered form."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **kwargs):
    """Post the admin login form of a test client with its CSRF token."""
    page = client.get("/admin/login", **kwargs)
    data = {"username": username, "password": password, "csrf_token": csrf_token(page.text)}
    return client.post("/admin/login", data=data, **kwargs)


def real_sign_in(side: str, username: str, password: str) -> requests.Session:
    """Sign in to a running app's admin; return the browser-like session."""
    http = requests.Session()
    base = topology.app_url(side)
    page = http.get(f"{base}/admin/login", timeout=10)
    data = {"username": username, "password": password, "csrf_token": csrf_token(page.text)}
    response = http.post(f"{base}/admin/login", data=data, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return http

"""The editor in a fresh browser context, for the editor's end-to-end tests."""

import pytest

from tests.e2e.test_editor import CSP_LISTENER, VIEWPORT, App


@pytest.fixture
def app(browser, live_server_url):
    """A fresh browser context (empty storage) per test, with the editor open."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_LISTENER)
    try:
        yield App(context.new_page(), live_server_url).open()
    finally:
        context.close()

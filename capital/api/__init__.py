"""The HTTP entry point (`capital serve`): the JSON API, and the portal's pages beside it.

Routes only translate a request into one call of the application layer and render its
result; who may do what is decided there, never here.
"""

from capital.api.app import create_app

__all__ = ["create_app"]

"""The app's only way to the backend: GraphQL over HTTP with httpx (see :mod:`mobile.api.client`)."""

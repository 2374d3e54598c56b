"""The GraphQL API: schema composition, context, permissions and the HTTP view."""

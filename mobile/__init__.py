"""The People's VPP family app (Kivy): students and parents log savings, see points, verify the ledger.

It talks to the backend only over HTTP (GraphQL) and never imports ``backend``.
"""

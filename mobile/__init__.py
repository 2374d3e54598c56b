"""The Kivy mobile app for students and parents.

Not built yet: the app (screens, GraphQL client, offline queue, Korean font) arrives with
its own issue. This package exists so the layout and the single install are in place.
"""

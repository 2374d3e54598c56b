"""People's VPP backend: accounts, households, schools, municipalities and the GraphQL API."""

"""arq workers: thin jobs that take ids, reload state and call the domain services."""

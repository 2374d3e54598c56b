"""``python -m mobile``: open the app (the server URL is in its settings, or PVPP_APP_SERVER)."""

from mobile.app import main

main()

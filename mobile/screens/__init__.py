"""One module per screen; :data:`SCREENS` names them for the app's ScreenManager."""

SCREENS = {
    "signin": "mobile.screens.signin:SignInScreen",
    "settings": "mobile.screens.settings:SettingsScreen",
    "home": "mobile.screens.home:HomeScreen",
    "log": "mobile.screens.log_activity:LogActivityScreen",
    "history": "mobile.screens.history:HistoryScreen",
    "wallet": "mobile.screens.wallet:WalletScreen",
    "dr": "mobile.screens.dr:DrScreen",
    "family": "mobile.screens.family:FamilyScreen",
    "plugs": "mobile.screens.plugs:PlugsScreen",
    "staff": "mobile.screens.staff:StaffScreen",
    "counter": "mobile.screens.counter:CounterScreen",
    "students": "mobile.screens.students:StudentsScreen",
    "awards": "mobile.screens.awards:AwardsScreen",
    "school_board": "mobile.screens.school:SchoolBoardScreen",
    "school_dr": "mobile.screens.school:SchoolDrScreen",
}

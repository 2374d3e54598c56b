"""The README's "What the demo contains" queries, one per role (the tests run these very strings)."""

STUDENT1 = """query Student1 {
  activities(limit: 200) { ... on ActivityList { items { activityType occurredOn status statusReason points } } }
  wallet { ... on Wallet { points volunteerMinutes volunteerHours mileageWon balancesMatchLedger } }
}"""

PARENT1_PLUGS = """query Parent1Plugs($household: ID!, $from: DateTime!, $mid: DateTime!) {
  plugs(householdId: $household) { ... on PlugList { items {
    name vendor drAutomation standby { watts kwhPerYear }
    older: hourly(from: $from, to: $mid) { ... on PlugHourly { hours { hour kwh coverage } } }
    recent: hourly(from: $mid) { ... on PlugHourly { hours { hour kwh coverage } } }
  } } }
  drEvents(upcoming: false) { items { id title shortNotice state startsAt
    myParticipation { optedIn commandsIssued } } }
}"""

PARENT1_SETTLEMENT = """query Parent1Settlement($event: ID!, $household: ID!) {
  drSettlement(eventId: $event, householdId: $household) { ... on DrSettlement {
    status method methodChoice dayType baselineKwh actualKwh reductionKwh points forgivenReason
    hours { hour baselineKwh unadjustedKwh } usedDays
  } }
}"""

TEACHER = """query Teacher {
  photoReviewQueue { ... on PhotoReviewQueue { items {
    id status statusReason modelCategory modelConfidence thumbnailUrl activity { activityType occurredOn }
  } } }
}"""

OFFICER = """query Officer($municipality: ID!) {
  coinProgramme(municipalityId: $municipality) { ... on CoinProgrammeDashboard {
    budgetWon issuedWon redeemedWon outstandingWon schools { schoolName issuedWon redeemedWon } } }
  programmes { name coinBudgetWon coinsIssuedWon enrolledSchoolIds }
  drEvents(upcoming: false) { items { title shortNotice state startsAt } }
}"""

WALLET = """query Wallet {
  wallet(historyLimit: 200) { ... on Wallet { points mileageWon coins { municipalityCode won }
    balancesMatchLedger history { kind asset amount memo recordedAt } } }
}"""

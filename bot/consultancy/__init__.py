"""For the consultancy deploying the bot: leads with consent, audit reminders, data rights,
anonymous statistics and exports."""

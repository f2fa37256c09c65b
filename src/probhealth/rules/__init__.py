"""Rules (pure): the rules file maps screening facts to suggested referral pathways, each with
the reasons that made it fire. No database, no printing."""

"""tier_sla: customer tiers and a tier x priority SLA (builtin plugin)."""

"""Scheduling component: EventBridge rules and Scheduler schedules, the overlap guard, dead letters."""

"""Notifications component: the environment's encrypted alert topic and pipeline failure rules."""

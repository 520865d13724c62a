"""A config's health: path presence and failures, the drift alarm, holds, and its stats."""

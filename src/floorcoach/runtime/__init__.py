"""What wires the layers into a running player: live session, outputs, standby, reminders."""

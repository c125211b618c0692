"""UNHEALTHY-WorkSpace remediation: reboot, opt-in rebuild, and the guards around both."""

"""shipit.spec."""

"""shipit.sim."""

"""shipit.registry."""

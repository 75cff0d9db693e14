"""shipit.assign."""

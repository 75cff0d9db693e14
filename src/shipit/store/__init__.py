"""shipit.store."""

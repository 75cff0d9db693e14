"""shipit.server."""

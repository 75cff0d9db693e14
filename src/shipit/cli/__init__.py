"""shipit.cli."""

"""shipit.metrics."""

"""shipit.report."""

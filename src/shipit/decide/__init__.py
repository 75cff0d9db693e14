"""shipit.decide."""

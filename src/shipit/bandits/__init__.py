"""shipit.bandits."""

"""shipit.sdk."""

inline constexpr VenueDescriptor kV2Venue{.name = "kraken"};

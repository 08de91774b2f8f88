// Login throttling keys: emails as given, client addresses grouped as one client would hold them.
#include "persistence/login_repository.hpp"

#include <catch2/catch.hpp>

using eventhub::persistence::logins::address_subject;
using eventhub::persistence::logins::email_subject;

TEST_CASE("an email is its own throttling key") {
  CHECK(email_subject("ann@example.com") == "email:ann@example.com");
}

TEST_CASE("client addresses are grouped as one client holds them") {
  SECTION("IPv4 as is") {
    CHECK(address_subject("203.0.113.7") == "addr:203.0.113.7");
  }
  SECTION("an IPv4-mapped IPv6 address is its IPv4 address") {
    CHECK(address_subject("::ffff:203.0.113.7") == "addr:203.0.113.7");
  }
  SECTION("any other IPv6 address is its /64: one host usually holds all of it") {
    CHECK(address_subject("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "addr:2001:db8:1:2::/64");
    CHECK(address_subject("2001:db8:1:2::1") == address_subject("2001:db8:1:2:ffff::9"));
    CHECK(address_subject("2001:db8:1:2::1") != address_subject("2001:db8:1:3::1"));
    CHECK(address_subject("::1") == "addr:::/64");
  }
  SECTION("anything else unchanged") {
    CHECK(address_subject("unix") == "addr:unix");
  }
}

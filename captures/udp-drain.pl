#!/usr/bin/perl
# captures/udp-drain.pl ADDR PORT... - a UDP receiver that reads and drops
# everything sent to ADDR:PORT..., so that no ICMP port-unreachable reaches a
# sender (ffmpeg stops or warns on it). Prints "ready" once every port is
# bound; runs until killed. Shared by captures/loopback.sh (the capture
# recipes) and the integration tests that run real senders.
use strict;
use warnings;
use IO::Socket::INET;

my ($addr, @ports) = @ARGV;
die "usage: udp-drain.pl ADDR PORT...\n" unless defined $addr && @ports;
my @s = map {
    IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $_, Proto => "udp")
      or die "port $_: $!\n"
} @ports;
$| = 1;
print "ready\n";
my $buf;
while (1) {
    my $rin = "";
    vec($rin, fileno($_), 1) = 1 for @s;
    select(my $rout = $rin, undef, undef, 1) > 0 or next;
    vec($rout, fileno($_), 1) and $_->recv($buf, 65535) for @s;
}

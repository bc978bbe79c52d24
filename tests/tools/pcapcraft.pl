#!/usr/bin/perl
# pcapcraft.pl - rewrites a classic pcap file for the reader tests
# (integration.direct_read). Reads IN, writes OUT:
#   swap          the other byte order (file and record headers)
#   nsec          microsecond file -> nanosecond magic and fractions
#   snaplen N     the file header's snapshot length set to N (records stay)
#   bigrec        a record claiming 300000 captured bytes appended
#                 (more than libpcap's 262144 maximum)
use strict;
use warnings;

my ($op, $in, $out, $arg) = @ARGV;
die "usage: pcapcraft.pl swap|nsec|snaplen N|bigrec IN OUT\n" unless defined $out;
if ($op eq 'snaplen') { ($arg, $in, $out) = ($in, $out, $arg); }
open(my $fh, '<:raw', $in) or die "$in: $!\n";
local $/;
my $d = <$fh>;
close $fh;
length($d) >= 24 or die "$in: too short\n";
my $m = unpack('V', substr($d, 0, 4));
my $le = $m == 0xa1b2c3d4 || $m == 0xa1b23c4d;
$le || unpack('N', substr($d, 0, 4)) == 0xa1b2c3d4 || unpack('N', substr($d, 0, 4)) == 0xa1b23c4d
    or die "$in: not a classic pcap file\n";
my ($L, $S) = $le ? ('V', 'v') : ('N', 'n');
my ($magic, $vmaj, $vmin, $zone, $sig, $snap, $lt) = unpack("$L$S$S$L$L$L$L", substr($d, 0, 24));
my @recs;
for (my $o = 24; $o + 16 <= length($d);) {
    my ($s, $u, $cl, $ol) = unpack("$L$L$L$L", substr($d, $o, 16));
    push @recs, [$s, $u, $cl, $ol, substr($d, $o + 16, $cl)];
    $o += 16 + $cl;
}
if ($op eq 'swap') {
    ($L, $S) = $le ? ('N', 'n') : ('V', 'v');
} elsif ($op eq 'nsec') {
    $magic == 0xa1b2c3d4 or die "$in: not a microsecond file\n";
    $magic = 0xa1b23c4d;
    $_->[1] *= 1000 for @recs;
} elsif ($op eq 'snaplen') {
    $snap = $arg;
} elsif ($op eq 'bigrec') {
    push @recs, [$recs[-1][0] + 1, 0, 300000, 300000, "\0" x 300000];
} else {
    die "unknown operation $op\n";
}
open(my $oh, '>:raw', $out) or die "$out: $!\n";
print $oh pack("$L$S$S$L$L$L$L", $magic, $vmaj, $vmin, $zone, $sig, $snap, $lt);
print $oh pack("$L$L$L$L", @{$_}[0 .. 3]), $_->[4] for @recs;
close $oh or die "$out: $!\n";

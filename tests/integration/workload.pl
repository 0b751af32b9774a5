# SPDX-License-Identifier: MIT
# Allocation-heavy Perl workload for the preload tests: hashes of arrays,
# string building, regexes with captures and substitutions, sorting. Perl
# randomises hash order per process, so every walk over a hash is sorted.
use strict;
use warnings;

my $seed = 12345;
sub next_rand {
	$seed = ($seed * 1103515245 + 12345) % 2147483648;
	return $seed >> 8;
}

my @alphabet = ('a' .. 'z');
sub word {
	my $len = 3 + next_rand() % 10;
	return join '', map { $alphabet[next_rand() % 26] } 1 .. $len;
}

# Hashes of arrays, grown and shrunk.
my %index;
for my $i (1 .. 60000) {
	my $w = word();
	push @{ $index{substr($w, 0, 2)} }, $w;
}
my $deleted = 0;
for my $k (sort keys %index) {
	if (length($k) == 2 && $k =~ /^[aeiou]/) {
		delete $index{$k};
		$deleted++;
	}
}
my $words = 0;
$words += scalar @{ $index{$_} } for keys %index;
printf "buckets %d deleted %d words %d\n", scalar(keys %index), $deleted, $words;

# String building and regexes.
my $text = join ' ', map { join ' ', @{ $index{$_} } } sort keys %index;
my @pairs = ($text =~ /\b(\w)(\w*)\1\b/g);
(my $shout = $text) =~ s/\b(\w)(\w+)/\U$1\E$2/g;
my $vowels = () = $text =~ /[aeiou]/g;
printf "text %d pairs %d shout %d vowels %d\n", length($text), scalar(@pairs) / 2,
	length($shout), $vowels;

# Word frequencies through split and a hash, then the top entries.
my %freq;
$freq{$_}++ for split /\s+/, $text;
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 4];
print "distinct ", scalar(keys %freq), " top ", join(',', map { "$_=$freq{$_}" } @top), "\n";

# Many small records: arrays of hashes, sprintf, sort by computed keys.
my @records = map { { id => $_, name => word(), score => next_rand() % 1000 } } 1 .. 40000;
my @sorted = sort { $a->{score} <=> $b->{score} || $a->{id} <=> $b->{id} } @records;
my $line = join ';', map { sprintf '%05d:%s:%03d', @{$_}{qw(id name score)} } @sorted[0 .. 9];
print "records ", scalar(@records), " first $line\n";

# A checksum over everything, so any corruption shows in the output.
my $sum = 0;
$sum = ($sum * 31 + ord($_)) % 1000000007 for split //, substr($shout, 0, 200000);
print "checksum $sum\n";
exit 0;

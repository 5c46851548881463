"""The film's sound by splicing AAC packets: each clip's own packets copied wherever the film
plays that clip's sound unchanged, and only a few packets re-encoded around each cut.

Why not copy everything: AAC packets hold 1024 samples each and every packet overlaps its
neighbours (MDCT), so a clip's packets keep their meaning only where they sit on the film's
packet grid, and only where the film's sound is that clip's sound (not inside a cut's 5 ms
ramp). So:

- each clip's sound is nudged by less than half a packet (at most 512 samples: 10.7 ms at
  48 kHz, a quarter of a frame at 24 fps) so its packets land on the film's grid. The nudge
  never accumulates: it is worked out from the clip's exact place in the film, clip by clip.
  (Joining files by `ffmpeg -f concat -c copy` instead lets the sound drift by up to one and
  a half packets a clip, 32 ms a clip at 48 kHz, a second after 30 clips.)
- at each cut, where the nudged clips' sounds meet, the film's sound is made as before
  (the outgoing clip ramps out over 5 ms, the incoming one ramps in) and encoded; where
  nudges leave a gap between two clips' sounds (at most one packet) it is silence.
- a packet is copied only if the whole stretch its MDCT block covers (two packets' worth) is
  that clip's own unchanged sound; a re-encoded packet next to a copied one encodes the very
  same sound, so the overlap between them cancels as it does inside any AAC stream (the
  difference is coding noise). The windows on both sides of every such join must meet (same
  slope, same shape); where they do not, the re-encoded stretch grows until they do.

`splice_layout` and `bridge_signal` are pure; `splice_soundtrack` does the I/O (one ffmpeg run
to decode the sound around the cuts, one to encode the stretches, then an ADTS stream for the
muxer). Anything unusual (not plain AAC-LC, no edit hiding the encoder's priming, window
joins that cannot be made clean, a decoder or encoder answering other than expected)
answers None, and the caller mixes and encodes the whole track as before.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyc.assemble.ffmpeg import ffmpeg_output
from storyc.assemble.mp4 import AudioTrack, aac_config

PACKET = 1024
"""Samples in one AAC-LC packet."""
PREROLL = 4
"""Packets of the film's sound fed to the encoder before a stretch (dropped), so the first
kept packet is encoded with its real predecessor and the encoder's model of the sound has
settled (measured on a loud chirp: with 2, a ramp at a cut came out with 3-7x the coding
error of a whole-track encode; with 4, no more than it)."""
POSTROLL = 2
"""Packets fed after a stretch (dropped), so the last kept packet sees what follows it, and
the encoder's reaction to where its input ends (short windows) stays out of the kept ones."""
MARGIN = 1
"""Packets each stretch is grown by from the start, past the least it must hold: right at a
cut's ramp the encoder often picks other windows than the clip's encoder did (measured: with
none, clips whose sound fades at their edges needed a second encoding round at every cut)."""
MAX_WIDEN = 6
"""How many packets a stretch may grow on each side to find clean window joins."""

SINGLE, PAIR, DATA, FILL = 0, 1, 4, 6
"""Syntactic element ids of an AAC raw data block."""
NO_SBR = bytes((0x56, 0xE5, 0x00))
"""The sync extension ffmpeg appends to an AAC-LC config to say "no SBR" (changes nothing)."""


@dataclass(frozen=True)
class ClipSound:
    """One clip's sound as the splice sees it: where the film shows the clip, its packets."""

    start: int
    """Film sample where the clip's picture starts (it ends where the next one's starts)."""
    priming: int
    """Samples of the clip's first packets that its edit list hides (the encoder's delay)."""
    length: int
    """Samples the clip presents after the priming."""
    packets: int
    """How many AAC packets the clip has."""


@dataclass(frozen=True)
class Window:
    """Where one clip's (nudged) sound plays in the film, and its ramps."""

    nudge: int
    """Samples the clip's sound is moved (negative: earlier) to sit on the packet grid."""
    first: int
    """Film sample where this clip's sound starts (inclusive)..."""
    last: int
    """...and stops (exclusive)."""
    ramp_in: int
    ramp_out: int

    def offset(self, clip: ClipSound) -> int:
        """Film sample where the clip's presentation sample 0 plays."""
        return clip.start + self.nudge


@dataclass(frozen=True)
class Stretch:
    """A run of film packets [first, stop) encoded from the film's mixed sound."""

    first: int
    stop: int


@dataclass(frozen=True)
class SpliceLayout:
    total: int
    """The film's length in samples."""
    packets: int
    """The film's packets, its priming packet (number 0) included."""
    windows: tuple[Window, ...]
    sources: tuple[tuple[int, int] | None, ...]
    """For every film packet: (clip position, clip packet number) when copied, else None."""

    @property
    def stretches(self) -> tuple[Stretch, ...]:
        runs: list[Stretch] = []
        start: int | None = None
        for number, source in enumerate((*self.sources, (0, 0))):
            if source is None and start is None:
                start = number
            elif source is not None and start is not None:
                runs.append(Stretch(start, number))
                start = None
        return tuple(runs)

    @property
    def copied(self) -> int:
        return sum(source is not None for source in self.sources)

    @property
    def largest_nudge(self) -> int:
        return max((abs(w.nudge) for w in self.windows), default=0)


def nudge_for(start: int, priming: int) -> int:
    """The smallest move (|n| <= 512) that puts a clip starting at film sample `start` on the
    film's packet grid (the film's own priming is one packet)."""
    phase = (start - priming + PACKET) % PACKET
    return -phase if phase <= PACKET // 2 else PACKET - phase


def splice_layout(clips: Sequence[ClipSound], total: int, ramp: int) -> SpliceLayout:
    """Which film packets are copied from which clip, and each clip's nudged window."""
    nudges = [nudge_for(clip.start, clip.priming) for clip in clips]
    firsts: list[int] = []
    lasts: list[int] = []
    for position, clip in enumerate(clips):
        begins = clip.start + nudges[position]
        if position == 0:
            firsts.append(max(0, begins))
            continue
        previous = clips[position - 1]
        previous_ends = previous.start + nudges[position - 1] + previous.length
        if begins <= previous_ends:  # the sounds overlap: cut at the picture's cut if it can
            cut = min(max(clip.start, begins), previous_ends)
            lasts.append(cut)
            firsts.append(cut)
        else:  # a gap of less than two packets: silence between the two ramps
            lasts.append(previous_ends)
            firsts.append(begins)
    last_clip = clips[-1]
    lasts.append(min(total, last_clip.start + nudges[-1] + last_clip.length))
    windows = []
    for position, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        span = max(0, last - first)
        windows.append(
            Window(
                nudge=nudges[position],
                first=first,
                last=max(first, last),
                ramp_in=min(ramp, span) if position > 0 else 0,
                ramp_out=min(ramp, span) if position < len(clips) - 1 else 0,
            )
        )
    packets = -(-total // PACKET) + 1
    sources: list[tuple[int, int] | None] = [None] * packets
    for position, (clip, window) in enumerate(zip(clips, windows, strict=True)):
        offset = window.offset(clip)
        # the stretch of film where the film's sound is this clip's sound, untouched
        clean_from = max(window.first + window.ramp_in, offset)
        clean_to = min(window.last - window.ramp_out, offset + clip.length)
        shift = offset - clip.priming  # film sample where the clip's packet 0 output starts
        assert shift % PACKET == 0, "the nudge puts the clip on the grid"
        base = shift // PACKET + 1  # film packet number of the clip's packet 0
        for number in range(max(0, base), min(packets, base + clip.packets)):
            block_from = (number - 1) * PACKET  # a packet's MDCT block: its own samples...
            block_to = (number + 1) * PACKET  # ...and the next packet's (within the film)
            inside = max(block_from, 0) >= clean_from and min(block_to, total) <= clean_to
            # A clip's packet 0 has no predecessor: it may only be the film's own packet 0,
            # whose output the film's edit list hides as the clip's did.
            if inside and (number - base >= 1 or number == 0):
                sources[number] = (position, number - base)
    return SpliceLayout(
        total=total, packets=packets, windows=tuple(windows), sources=tuple(sources)
    )


def with_margin(layout: SpliceLayout, packets: int = MARGIN) -> SpliceLayout:
    """Every stretch grown by `packets` on each side."""
    for stretch in layout.stretches:
        for number in (
            *range(stretch.first - packets, stretch.first),
            *range(stretch.stop, stretch.stop + packets),
        ):
            if 0 <= number < layout.packets:
                layout = widen(layout, number)
    return layout


def widen(layout: SpliceLayout, packet: int) -> SpliceLayout:
    """The same layout with film packet `packet` re-encoded instead of copied."""
    sources = list(layout.sources)
    sources[packet] = None
    return SpliceLayout(layout.total, layout.packets, layout.windows, tuple(sources))


# --- the sound of the stretches ----------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Film samples [first, stop) a stretch is encoded from (its preroll and postroll too)."""

    first: int
    stop: int


def stretch_span(stretch: Stretch) -> Span:
    return Span((stretch.first - 1 - PREROLL) * PACKET, (stretch.stop - 1 + POSTROLL) * PACKET)


def clip_needs(
    clips: Sequence[ClipSound], windows: Sequence[Window], spans: Sequence[Span]
) -> list[list[tuple[int, int]]]:
    """For each clip, the presentation ranges [from, to) of its sound the spans play."""
    needs: list[list[tuple[int, int]]] = [[] for _ in clips]
    for position, (clip, window) in enumerate(zip(clips, windows, strict=True)):
        offset = window.offset(clip)
        for span in spans:
            low = max(span.first, window.first, offset)
            high = min(span.stop, window.last, offset + clip.length)
            if low < high:
                needs[position].append((low - offset, high - offset))
    return needs


def packets_for(clip: ClipSound, first: int, stop: int) -> tuple[int, int]:
    """Clip packets [a, b) whose output covers presentation samples [first, stop); `a` is
    one packet earlier (decoded only to prime the decoder) when there is one."""
    a = (first + clip.priming) // PACKET
    b = -(-(stop + clip.priming) // PACKET)
    return max(0, a - 1), min(clip.packets, b)


def bridge_signal(
    span: Span,
    clips: Sequence[ClipSound],
    windows: Sequence[Window],
    decoded: dict[tuple[int, int, int], array],
    channels: int,
) -> array:
    """The film's sound over `span`: each clip's decoded sound in its window, ramped at the
    cuts like the whole-track mix (`soundtrack.mix_soundtrack`), silence elsewhere."""
    out = array("f", bytes(4 * channels * (span.stop - span.first)))
    for position, (clip, window) in enumerate(zip(clips, windows, strict=True)):
        offset = window.offset(clip)
        low = max(span.first, window.first, offset)
        high = min(span.stop, window.last, offset + clip.length)
        if low >= high:
            continue
        samples = decoded[(position, low - offset, high - offset)]
        at = (low - span.first) * channels
        out[at : at + len(samples)] = samples
        ramps = (
            (window.first, window.first + window.ramp_in),
            (window.last - window.ramp_out, window.last),
        )
        for ramp_from, ramp_to in ramps:
            for film_sample in range(max(low, ramp_from), min(high, ramp_to)):
                gain = _gain(window, film_sample)
                index = (film_sample - span.first) * channels
                for channel in range(channels):
                    out[index + channel] *= gain
    return out


def _gain(window: Window, sample: int) -> float:
    """Equal-power ramps at the window's cut edges (the same curve as the whole-track mix)."""
    gain = 1.0
    if window.ramp_in and sample < window.first + window.ramp_in:
        gain *= math.sin((sample - window.first + 0.5) / window.ramp_in * math.pi / 2)
    if window.ramp_out and sample >= window.last - window.ramp_out:
        gain *= math.sin((window.last - sample - 0.5) / window.ramp_out * math.pi / 2)
    return gain


# --- AAC packets -------------------------------------------------------------------------


def plain_aac_lc(track: AudioTrack) -> tuple[int, int] | None:
    """(rate index, channels) when the track is plain AAC-LC, mono or stereo, 1024-sample
    packets, with its decoder config exactly what ffmpeg writes for an ADTS stream."""
    config = aac_config(track.decoder_config)
    if config is None or track.codec != "mp4a" or track.timescale != track.sample_rate:
        return None
    object_type, rate_index, channels = config
    if object_type != 2 or channels not in (1, 2) or rate_index > 12:
        return None
    plain = bytes(((2 << 3) | (rate_index >> 1), ((rate_index & 1) << 7) | (channels << 3)))
    if track.decoder_config not in (plain, plain + NO_SBR):
        return None  # SBR/PS, 960-sample frames or extra fields: not ours to splice
    if len(track.sample_sizes) != track.sample_count or track.priming < PACKET:
        return None  # without the usual priming, packet 0's output would be needed
    return rate_index, channels


def window_of(packet: bytes) -> tuple[int, int] | None:
    """(window_sequence, window_shape) of an AAC-LC raw data block's first channel element,
    or None when it cannot be read (stereo without a common window, where the second
    channel may differ; anything but fill and data elements before it)."""
    bits = int.from_bytes(packet, "big")
    size = 8 * len(packet)
    at = 0

    def take(width: int) -> int:
        nonlocal at
        if at + width > size:
            raise ValueError("short packet")
        value = (bits >> (size - at - width)) & ((1 << width) - 1)
        at += width
        return value

    try:
        while True:
            element = take(3)
            if element == FILL:  # e.g. the encoder's name, which ffmpeg writes every 256
                count = take(4)
                if count == 15:
                    count += take(8) - 1
                at += 8 * count
            elif element == DATA:
                take(4)
                aligned = take(1)
                count = take(8)
                if count == 255:
                    count += take(8)
                if aligned:
                    at += -at % 8
                at += 8 * count
            elif element == SINGLE:  # tag, global gain, then ics_info
                take(4 + 8 + 1)
                return take(2), take(1)
            elif element == PAIR:
                take(4)
                if not take(1):  # no common window: the channels' windows may differ
                    return None
                take(1)
                return take(2), take(1)
            else:
                return None
    except ValueError:
        return None


def adts_packets(stream: bytes) -> list[bytes]:
    """The raw AAC packets of an ADTS stream (headers, and CRCs if any, removed)."""
    packets = []
    at = 0
    while at + 7 <= len(stream):
        if stream[at] != 0xFF or stream[at + 1] & 0xF0 != 0xF0:
            raise ValueError(f"not an ADTS header at byte {at}")
        header = 7 if stream[at + 1] & 1 else 9
        length = ((stream[at + 3] & 3) << 11) | (stream[at + 4] << 3) | (stream[at + 5] >> 5)
        packets.append(stream[at + header : at + length])
        at += length
    return packets


def adts_header(payload: int, rate_index: int, channels: int) -> bytes:
    """The 7-byte ADTS header of one AAC-LC packet (so ffmpeg can read bare packets)."""
    length = payload + 7
    return bytes(
        (
            0xFF,
            0xF1,
            (1 << 6) | (rate_index << 2) | (channels >> 2),
            ((channels & 3) << 6) | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,
        )
    )


# --- the whole splice --------------------------------------------------------------------


@dataclass(frozen=True)
class SplicedSound:
    adts: Path
    """The film's sound as an ADTS stream: every packet, the priming one first."""
    total: int
    packets: int
    copied: int
    stretches: int
    largest_nudge: int
    rate: int


def splice_soundtrack(
    clips: Sequence[ClipSound],
    files: Sequence[tuple[Path, AudioTrack]],
    total: int,
    ramp: int,
    out: Path,
) -> SplicedSound | None:
    """Write the film's sound to `out` (ADTS) by splicing, or None where it cannot be clean."""
    formats = {plain_aac_lc(track) for _, track in files}
    if len(formats) != 1 or None in formats or not clips:
        return None
    ((rate_index, channels),) = formats  # type: ignore[misc]
    rate = files[0][1].sample_rate
    readers = [_PacketReader(path, track) for path, track in files]
    try:
        layout = _write_spliced(clips, readers, total, ramp, out, rate_index, channels, rate)
    except ValueError:  # the decoder or encoder answered something unexpected: mix instead
        return None
    finally:
        for reader in readers:
            reader.close()
    if layout is None:
        return None
    return SplicedSound(
        adts=out,
        total=total,
        packets=layout.packets,
        copied=layout.copied,
        stretches=len(layout.stretches),
        largest_nudge=layout.largest_nudge,
        rate=rate,
    )


def _write_spliced(
    clips: Sequence[ClipSound],
    readers: Sequence[_PacketReader],
    total: int,
    ramp: int,
    out: Path,
    rate_index: int,
    channels: int,
    rate: int,
) -> SpliceLayout | None:
    """Lay out, encode the stretches until every join is clean, and write the ADTS stream;
    None when the joins cannot be made clean within `MAX_WIDEN` packets."""
    layout = _copied_sides_clean(with_margin(splice_layout(clips, total, ramp)), readers)
    encoded: dict[int, bytes] = {}
    for _ in range(MAX_WIDEN + 1):
        encoded = _encode_stretches(layout, clips, readers, channels, rate)
        bad = _unclean_joins(layout, readers, encoded)
        if not bad:
            break
        for packet in bad:
            layout = widen(layout, packet)
    else:
        return None
    with out.open("wb") as sink:
        for number, source in enumerate(layout.sources):
            payload = readers[source[0]].packet(source[1]) if source else encoded[number]
            if len(payload) + 7 >= 1 << 13:
                raise ValueError("a packet too long for an ADTS frame")
            sink.write(adts_header(len(payload), rate_index, channels) + payload)
    return layout


class _PacketReader:
    """One clip file's AAC packets, read on demand."""

    def __init__(self, path: Path, track: AudioTrack) -> None:
        self.track = track
        self.handle = path.open("rb")

    def packet(self, number: int) -> bytes:
        self.handle.seek(self.track.sample_positions[number])
        return self.handle.read(self.track.sample_sizes[number])

    def close(self) -> None:
        self.handle.close()


def _encode_stretches(
    layout: SpliceLayout,
    clips: Sequence[ClipSound],
    readers: Sequence[_PacketReader],
    channels: int,
    rate: int,
) -> dict[int, bytes]:
    """Film packet number -> packet, for every packet of every stretch (and, under negative
    numbers, the encoder's packet just before each stretch, for the join checks)."""
    stretches = layout.stretches
    spans = [stretch_span(stretch) for stretch in stretches]
    decoded = _decode(clips, layout.windows, spans, readers, channels)
    pcm = array("f")
    for span in spans:
        pcm.extend(bridge_signal(span, clips, layout.windows, decoded, channels))
    if sys.byteorder != "little":
        pcm.byteswap()
    bitrate = _bitrate(readers, rate)
    adts = ffmpeg_output(
        [
            *("-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0"),
            *("-c:a", "aac", "-b:a", str(bitrate), "-flags:a", "+bitexact"),
            *("-f", "adts", "pipe:1"),
        ],
        pcm.tobytes(),
        what="encoding the sound at the cuts",
    )
    packets = adts_packets(adts)
    if len(packets) != len(pcm) // channels // PACKET + 1:  # its priming packet, then one each
        raise ValueError(f"the encoder made {len(packets)} packets, not one per 1024 samples")
    encoded: dict[int, bytes] = {}
    at = 0  # the encoder's packet m covers input [(m - 1) * 1024, m * 1024)
    for stretch, span in zip(stretches, spans, strict=True):
        first_input_packet = at // PACKET
        for number in range(max(0, stretch.first - 1), min(layout.packets, stretch.stop + 1)):
            m = first_input_packet + (number - stretch.first) + PREROLL + 1
            if 0 <= m < len(packets):
                key = number if stretch.first <= number < stretch.stop else _neighbour(number)
                encoded[key] = packets[m]
        at += span.stop - span.first
    return encoded


def _neighbour(number: int) -> int:
    """Key under which the encoder's packet for a copied film packet is kept: the packet a
    stretch's first (or last) packet was encoded next to, for the window checks."""
    return -1 - number


def _unclean_joins(
    layout: SpliceLayout, readers: Sequence[_PacketReader], encoded: dict[int, bytes]
) -> list[int]:
    """Copied packets at a join with a stretch whose windows do not meet cleanly (to be
    re-encoded): the outgoing packet's closing slope must be the incoming one's opening
    slope, and the window shape the decoder takes from the outgoing packet must be the one
    the incoming packet was encoded against (its own predecessor's)."""
    bad: list[int] = []
    sources = layout.sources
    for number in range(1, layout.packets):
        left, right = sources[number - 1], sources[number]
        if left is None and right is None:
            continue
        if left is not None and right is not None:
            if left[0] != right[0]:
                bad.append(number)  # two clips meeting without a stretch between them
            continue
        if left is not None:  # a copied packet, then a stretch
            outgoing = readers[left[0]].packet(left[1])
            incoming = encoded[number]
            assumed = encoded.get(_neighbour(number - 1), b"")
            culprit = number - 1
        else:  # a stretch, then a copied packet
            assert right is not None
            outgoing = encoded[number - 1]
            incoming = readers[right[0]].packet(right[1])
            assumed = readers[right[0]].packet(right[1] - 1)
            culprit = number
        if not _meet_cleanly(outgoing, incoming, assumed):
            bad.append(culprit)
    return bad


def _copied_sides_clean(layout: SpliceLayout, readers: Sequence[_PacketReader]) -> SpliceLayout:
    """Grow each stretch past copied packets that could not meet any re-encoded neighbour
    (a short window at the join, or one that cannot be read), before anything is encoded:
    the encoder's own side is checked after (`_unclean_joins`)."""
    for _ in range(MAX_WIDEN):
        bad = []
        sources = layout.sources
        for number in range(1, layout.packets):
            left, right = sources[number - 1], sources[number]
            if left is not None and right is None:
                window = window_of(readers[left[0]].packet(left[1]))
                if window is None or not _LONG_CLOSE[window[0]]:
                    bad.append(number - 1)
            elif left is None and right is not None:
                window = window_of(readers[right[0]].packet(right[1]))
                before = window_of(readers[right[0]].packet(right[1] - 1))
                if window is None or before is None or not _LONG_OPEN[window[0]]:
                    bad.append(number)
        if not bad:
            break
        for packet in bad:
            layout = widen(layout, packet)
    return layout


def _meet_cleanly(outgoing: bytes, incoming: bytes, assumed: bytes) -> bool:
    windows = [window_of(packet) for packet in (outgoing, incoming, assumed)]
    if None in windows:
        return False
    (out_sequence, out_shape), (in_sequence, _), (_, assumed_shape) = windows  # type: ignore[misc]
    return _LONG_CLOSE[out_sequence] == _LONG_OPEN[in_sequence] and out_shape == assumed_shape


_LONG_OPEN = (True, True, False, False)
"""Whether a window sequence (only long, long start, eight short, long stop) opens with a
long slope..."""
_LONG_CLOSE = (True, False, False, True)
"""...and whether it closes with one."""


def _decode(
    clips: Sequence[ClipSound],
    windows: Sequence[Window],
    spans: Sequence[Span],
    readers: Sequence[_PacketReader],
    channels: int,
) -> dict[tuple[int, int, int], array]:
    """Each (clip, from, to) a stretch needs, decoded, in one ffmpeg run over an ADTS stream
    of just those packets (each group starts one packet early: its output primes nothing)."""
    needs = clip_needs(clips, windows, spans)
    stream = bytearray()
    groups: list[tuple[tuple[int, int, int], int, int]] = []  # key, packets [a, b)
    rate_index, _ = plain_aac_lc(readers[0].track) or (0, 0)
    for position, ranges in enumerate(needs):
        clip, reader = clips[position], readers[position]
        for first, stop in ranges:
            a, b = packets_for(clip, first, stop)
            groups.append(((position, first, stop), a, b))
            for number in range(a, b):
                payload = reader.packet(number)
                stream += adts_header(len(payload), rate_index, channels) + payload
    if not groups:
        return {}
    raw = ffmpeg_output(
        ["-f", "aac", "-i", "pipe:0", "-f", "f32le", "pipe:1"],
        bytes(stream),
        what="decoding the sound at the cuts",
    )
    samples = array("f", raw)
    if sys.byteorder != "little":
        samples.byteswap()
    expected = sum(b - a for _, a, b in groups) * PACKET * channels
    if len(samples) != expected:
        raise ValueError(f"decoded {len(samples)} samples, expected {expected}")
    decoded: dict[tuple[int, int, int], array] = {}
    at = 0
    for key, a, b in groups:
        position, first, stop = key
        clip = clips[position]
        group_start = a * PACKET - clip.priming  # presentation sample of the group's output
        lo = (first - group_start) * channels
        hi = (stop - group_start) * channels
        decoded[key] = samples[at + lo : at + hi]
        at += (b - a) * PACKET * channels
    return decoded


def _bitrate(readers: Sequence[_PacketReader], rate: int) -> int:
    """The clips' own average bit rate (so the stretches sound like what they join)."""
    sizes = sum(sum(reader.track.sample_sizes) for reader in readers)
    count = sum(len(reader.track.sample_sizes) for reader in readers)
    bits = 8 * sizes / max(1, count) * rate / PACKET
    return int(min(320_000, max(64_000, round(bits / 8000) * 8000)))

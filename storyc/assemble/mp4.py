"""Read the facts a stream copy depends on straight from an MP4's boxes, in process.

`storyc.probe` asks ffmpeg (tens of milliseconds a file) and gives what a person wants to know;
the stream-copy preflight needs more (the exact H.264 parameter sets, the track time scales,
the AAC decoder config, whether every sample's bytes are really in the file) and needs it for
thirty clips in the time ffmpeg takes to copy them, so it reads `moov` itself (~1 ms a file).

    facts = read_mp4(Path("clip.mp4"))
    facts.video.decoder_config, facts.video.fps, facts.audio.sample_rate

`read_mp4` raises `Mp4Error` for a file that is not an MP4, has no `moov` (a download cut
short before the index was written) or whose samples point past the end of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO


class Mp4Error(Exception):
    """The file is not a whole MP4 (the message says why, in a few words)."""


class NotMp4Error(Mp4Error):
    """The file is some other format (ffmpeg may still read it)."""


@dataclass(frozen=True)
class Edit:
    segment_duration: int
    """In the movie time scale."""
    media_time: int
    """In the track's time scale; -1 for an empty edit."""


@dataclass(frozen=True)
class VideoTrack:
    codec: str
    """Sample entry four-cc: `avc1`, `avc3`, `hvc1`, ..."""
    width: int
    height: int
    timescale: int
    sample_count: int
    media_duration: int
    """Sum of the sample durations, in `timescale` units."""
    frame_delta: int | None
    """The one sample duration when the track is constant frame rate, else None."""
    decoder_config: bytes
    """The `avcC`/`hvcC` payload: profile, level and parameter sets, byte for byte."""
    sync_samples: tuple[int, ...] | None
    """1-based numbers of the keyframes; None means every sample is one."""
    edits: tuple[Edit, ...]
    first_sample: tuple[int, int]
    """(offset, size) of the first sample's bytes in the file."""

    @property
    def fps(self) -> Fraction | None:
        return Fraction(self.timescale, self.frame_delta) if self.frame_delta else None

    @property
    def profile(self) -> int | None:
        return (
            self.decoder_config[1] if self.codec.startswith("avc") and self.decoder_config else None
        )

    @property
    def nal_length_size(self) -> int:
        return (self.decoder_config[4] & 3) + 1 if len(self.decoder_config) > 4 else 4


@dataclass(frozen=True)
class AudioTrack:
    codec: str
    """Sample entry four-cc, `mp4a` for AAC."""
    timescale: int
    sample_count: int
    media_duration: int
    sample_rate: int
    channels: int
    decoder_config: bytes
    """The AudioSpecificConfig bytes (object type, rate, channel layout)."""
    edits: tuple[Edit, ...]
    sample_positions: tuple[int, ...] = ()
    """Each packet's offset in the file."""
    sample_sizes: tuple[int, ...] = ()

    @property
    def priming(self) -> int:
        """Samples the edit list skips at the start (the encoder's delay)."""
        kept = [e for e in self.edits if e.media_time >= 0]
        return kept[0].media_time if len(kept) == 1 else 0

    @property
    def duration_samples(self) -> int:
        """Samples presented after the edit list drops the encoder's priming."""
        return max(0, self.media_duration - self.priming)


@dataclass(frozen=True)
class Mp4Facts:
    path: Path
    file_size: int
    movie_timescale: int
    video: VideoTrack | None
    audio: AudioTrack | None
    moov_first: bool
    """True when the index comes before the media (`+faststart`)."""
    track_kinds: tuple[str, ...] = ()
    """"video"/"audio"/"other" for every track in file order (ffmpeg's stream numbers)."""

    @property
    def video_frames(self) -> int:
        return self.video.sample_count if self.video else 0


def read_mp4(path: Path) -> Mp4Facts:
    """Return the facts of the MP4 at `path`; raise `Mp4Error` if it is not a whole MP4."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise Mp4Error("the file is empty")
        with path.open("rb") as handle:
            return _read(path, handle, size)
    except OSError as exc:
        raise Mp4Error(exc.strerror or str(exc)) from exc
    except (struct.error, IndexError, ValueError, ZeroDivisionError) as exc:
        raise Mp4Error(f"damaged MP4 index ({exc})") from exc


def read_first_video_sample(facts: Mp4Facts) -> bytes:
    """The bytes of the first video sample (where encoders put their settings SEI)."""
    if facts.video is None:
        return b""
    offset, size = facts.video.first_sample
    with facts.path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def _read(path: Path, handle: BinaryIO, size: int) -> Mp4Facts:
    moov: bytes | None = None
    seen_mdat = False
    moov_first = False
    position = 0
    first = True
    while position < size:
        handle.seek(position)
        header = handle.read(16)
        if len(header) < 8:
            break
        box_size, kind = struct.unpack(">I4s", header[:8])
        header_size = 8
        if box_size == 1:
            box_size = struct.unpack(">Q", header[8:16])[0]
            header_size = 16
        elif box_size == 0:
            box_size = size - position
        if first and kind not in (b"ftyp", b"styp", b"free", b"skip", b"wide", b"moov"):
            raise NotMp4Error("not an MP4 file")
        first = False
        if box_size < header_size:
            raise Mp4Error("damaged box header")
        if kind == b"moov":
            if position + box_size > size:
                raise Mp4Error("the index (moov) is cut short")
            handle.seek(position + header_size)
            moov = handle.read(box_size - header_size)
            moov_first = not seen_mdat
        elif kind == b"mdat":
            seen_mdat = True
        position += box_size
    if moov is None:
        raise Mp4Error("no index (moov atom): the download was probably cut short")
    return _parse_moov(path, moov, size, moov_first)


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """The child boxes of `data[start:end]` as (type, payload start, payload end)."""
    end = len(data) if end is None else end
    found = []
    position = start
    while position + 8 <= end:
        box_size, kind = struct.unpack_from(">I4s", data, position)
        header_size = 8
        if box_size == 1:
            box_size = struct.unpack_from(">Q", data, position + 8)[0]
            header_size = 16
        elif box_size == 0:
            box_size = end - position
        if box_size < header_size or position + box_size > end:
            raise Mp4Error("damaged box inside the index")
        found.append((kind, position + header_size, position + box_size))
        position += box_size
    return found


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, s, e in _boxes(data, start, end):
        if found == kind:
            return s, e
    return None


def _path(data: bytes, start: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    span: tuple[int, int] | None = (start, end)
    for kind in kinds:
        if span is None:
            return None
        span = _child(data, span[0], span[1], kind)
    return span


def _parse_moov(path: Path, moov: bytes, file_size: int, moov_first: bool) -> Mp4Facts:
    mvhd = _child(moov, 0, len(moov), b"mvhd")
    if mvhd is None:
        raise Mp4Error("no movie header")
    version = moov[mvhd[0]]
    movie_timescale = struct.unpack_from(">I", moov, mvhd[0] + (20 if version == 1 else 12))[0]
    video: VideoTrack | None = None
    audio: AudioTrack | None = None
    kinds: list[str] = []
    for kind, start, end in _boxes(moov):
        if kind != b"trak":
            continue
        track = _parse_trak(moov, start, end, file_size)
        kinds.append(
            "video"
            if isinstance(track, VideoTrack)
            else "audio"
            if isinstance(track, AudioTrack)
            else "other"
        )
        if isinstance(track, VideoTrack) and video is None:
            video = track
        elif isinstance(track, AudioTrack) and audio is None:
            audio = track
    return Mp4Facts(path, file_size, movie_timescale, video, audio, moov_first, tuple(kinds))


def _parse_trak(
    data: bytes, start: int, end: int, file_size: int
) -> VideoTrack | AudioTrack | None:
    mdia = _child(data, start, end, b"mdia")
    if mdia is None:
        return None
    hdlr = _child(data, *mdia, b"hdlr")
    mdhd = _child(data, *mdia, b"mdhd")
    stbl = _path(data, *mdia, b"minf", b"stbl")
    if hdlr is None or mdhd is None or stbl is None:
        return None
    handler = data[hdlr[0] + 8 : hdlr[0] + 12]
    if handler not in (b"vide", b"soun"):
        return None
    version = data[mdhd[0]]
    timescale = struct.unpack_from(">I", data, mdhd[0] + (20 if version == 1 else 12))[0]
    if timescale == 0:
        raise Mp4Error("a track has no time scale")

    deltas = _stts(data, stbl)
    sample_count = sum(count for count, _ in deltas)
    media_duration = sum(count * delta for count, delta in deltas)
    sizes = _stsz(data, stbl)
    if len(sizes) != sample_count:
        raise Mp4Error("the sample tables disagree")
    offsets = _chunk_offsets(data, stbl)
    positions = _sample_positions(data, stbl, offsets, sizes, file_size)
    first_sample = (positions[0], sizes[0]) if sizes else (0, 0)
    edits = _elst(data, start, end)

    stsd = _child(data, *stbl, b"stsd")
    if stsd is None:
        raise Mp4Error("a track has no sample description")
    entries = _boxes(data, stsd[0] + 8, stsd[1])
    if not entries:
        raise Mp4Error("a track has no sample description")
    codec_raw, entry_start, entry_end = entries[0]
    codec = codec_raw.decode("latin-1")

    if handler == b"vide":
        width, height = struct.unpack_from(">HH", data, entry_start + 24)
        config = b""
        for kind, s, e in _boxes(data, entry_start + 78, entry_end):
            if kind in (b"avcC", b"hvcC"):
                config = data[s:e]
        stss = _child(data, *stbl, b"stss")
        sync = None
        if stss is not None:
            count = struct.unpack_from(">I", data, stss[0] + 4)[0]
            sync = struct.unpack_from(f">{count}I", data, stss[0] + 8)
        distinct = {delta for count, delta in deltas if count}
        return VideoTrack(
            codec=codec,
            width=width,
            height=height,
            timescale=timescale,
            sample_count=sample_count,
            media_duration=media_duration,
            frame_delta=distinct.pop() if len(distinct) == 1 else None,
            decoder_config=config,
            sync_samples=sync,
            edits=edits,
            first_sample=first_sample,
        )

    sound_version = struct.unpack_from(">H", data, entry_start + 8)[0]
    channels = struct.unpack_from(">H", data, entry_start + 16)[0]
    sample_rate = struct.unpack_from(">I", data, entry_start + 24)[0] >> 16
    children_at = entry_start + 28 + {1: 16, 2: 36}.get(sound_version, 0)
    asc = b""
    for kind, s, e in _boxes(data, children_at, entry_end):
        if kind == b"esds":
            asc = _audio_specific_config(data[s + 4 : e])
        elif kind == b"wave":  # QuickTime wraps esds one level deeper
            inner = _child(data, s, e, b"esds")
            if inner is not None:
                asc = _audio_specific_config(data[inner[0] + 4 : inner[1]])
    if asc:
        rate, asc_channels = _asc_rate_channels(asc)
        sample_rate = rate or sample_rate
        channels = asc_channels or channels
    return AudioTrack(
        codec=codec,
        timescale=timescale,
        sample_count=sample_count,
        media_duration=media_duration,
        sample_rate=sample_rate or timescale,
        channels=channels,
        decoder_config=asc,
        edits=edits,
        sample_positions=positions,
        sample_sizes=sizes,
    )


def _stts(data: bytes, stbl: tuple[int, int]) -> list[tuple[int, int]]:
    stts = _child(data, *stbl, b"stts")
    if stts is None:
        raise Mp4Error("a track has no timing table")
    count = struct.unpack_from(">I", data, stts[0] + 4)[0]
    flat = struct.unpack_from(f">{2 * count}I", data, stts[0] + 8)
    return list(zip(flat[0::2], flat[1::2], strict=True))


def _stsz(data: bytes, stbl: tuple[int, int]) -> tuple[int, ...]:
    stsz = _child(data, *stbl, b"stsz")
    if stsz is None:
        raise Mp4Error("a track has no sample sizes")
    uniform, count = struct.unpack_from(">II", data, stsz[0] + 4)
    if uniform:
        return (uniform,) * count
    return struct.unpack_from(f">{count}I", data, stsz[0] + 12)


def _chunk_offsets(data: bytes, stbl: tuple[int, int]) -> tuple[int, ...]:
    stco = _child(data, *stbl, b"stco")
    if stco is not None:
        count = struct.unpack_from(">I", data, stco[0] + 4)[0]
        return struct.unpack_from(f">{count}I", data, stco[0] + 8)
    co64 = _child(data, *stbl, b"co64")
    if co64 is not None:
        count = struct.unpack_from(">I", data, co64[0] + 4)[0]
        return struct.unpack_from(f">{count}Q", data, co64[0] + 8)
    raise Mp4Error("a track has no chunk offsets")


def _sample_positions(
    data: bytes,
    stbl: tuple[int, int],
    offsets: tuple[int, ...],
    sizes: tuple[int, ...],
    file_size: int,
) -> tuple[int, ...]:
    """Each sample's offset in the file; raise if any sample's bytes lie past its end."""
    stsc = _child(data, *stbl, b"stsc")
    if stsc is None:
        raise Mp4Error("a track has no chunk map")
    count = struct.unpack_from(">I", data, stsc[0] + 4)[0]
    flat = struct.unpack_from(f">{3 * count}I", data, stsc[0] + 8)
    runs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 3)]
    positions: list[int] = []
    for run, (first_chunk, per_chunk) in enumerate(runs):
        last_chunk = runs[run + 1][0] - 1 if run + 1 < len(runs) else len(offsets)
        for chunk in range(first_chunk, last_chunk + 1):
            sample = len(positions)
            if sample >= len(sizes):
                break
            position = offsets[chunk - 1]
            for size in sizes[sample : sample + per_chunk]:
                positions.append(position)
                position += size
            if position > file_size:
                raise Mp4Error("the file is cut short: samples lie past its end")
    if len(positions) < len(sizes):
        raise Mp4Error("the chunk map does not cover every sample")
    return tuple(positions)


def _elst(data: bytes, start: int, end: int) -> tuple[Edit, ...]:
    elst = _path(data, start, end, b"edts", b"elst")
    if elst is None:
        return ()
    version = data[elst[0]]
    count = struct.unpack_from(">I", data, elst[0] + 4)[0]
    edits = []
    position = elst[0] + 8
    for _ in range(count):
        if version == 1:
            duration, media_time = struct.unpack_from(">Qq", data, position)
            position += 20
        else:
            duration, media_time = struct.unpack_from(">Ii", data, position)
            position += 12
        edits.append(Edit(duration, media_time))
    return tuple(edits)


def _descriptor(data: bytes, position: int) -> tuple[int, int, int]:
    """(tag, payload start, payload end) of the MPEG-4 descriptor at `position`."""
    tag = data[position]
    position += 1
    length = 0
    for _ in range(4):
        byte = data[position]
        position += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, position, position + length


def _audio_specific_config(esds: bytes) -> bytes:
    tag, start, end = _descriptor(esds, 0)
    if tag != 3:
        return b""
    flags = esds[start + 2]
    position = start + 3
    if flags & 0x80:
        position += 2
    if flags & 0x40:
        position += 1 + esds[position]
    if flags & 0x20:
        position += 2
    while position < end:
        tag, s, e = _descriptor(esds, position)
        if tag == 4:
            inner = s + 13
            while inner < e:
                tag5, s5, e5 = _descriptor(esds, inner)
                if tag5 == 5:
                    return esds[s5:e5]
                inner = e5
            return b""
        position = e
    return b""


_AAC_RATES = (
    96000,
    88200,
    64000,
    48000,
    44100,
    32000,
    24000,
    22050,
    16000,
    12000,
    11025,
    8000,
    7350,
)


def aac_config(asc: bytes) -> tuple[int, int, int] | None:
    """(object type, sampling frequency index, channel configuration) of an AAC config."""
    if len(asc) < 2:
        return None
    bits = int.from_bytes(asc[:2], "big")
    return bits >> 11, (bits >> 7) & 0xF, (bits >> 3) & 0xF


def _asc_rate_channels(asc: bytes) -> tuple[int | None, int | None]:
    bits = int.from_bytes(asc[:5].ljust(5, b"\0"), "big")
    width = 40
    cursor = 0

    def take(n: int) -> int:
        nonlocal cursor
        cursor += n
        return (bits >> (width - cursor)) & ((1 << n) - 1)

    object_type = take(5)
    if object_type == 31:
        take(6)
    index = take(4)
    rate = take(24) if index == 15 else (_AAC_RATES[index] if index < len(_AAC_RATES) else None)
    config = take(4)
    channels = {7: 8}.get(config, config) or None
    return rate, channels

"""The pose model's second opinion on a person seen at a distance (pose_assist)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.models.segmentation import DEFAULT_SEGMENTER, create_segmenter
from camfx.models.segmentation.pose_assist import (
    CUT_TORSO,
    PoseView,
    close_up,
    main_person,
    near,
    pose_window,
    second_opinion,
)
from camfx.models.segmentation.tracking import Box
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx_eval import real_eval
from camfx_eval.conditions import CONDITIONS, under
from camfx_eval.evaluation import read_frames
from tests.conftest import MEDIA, SHARED

REAL = SHARED / "eval" / "real"


def _standing(map_hw=(90, 160), legs_to_bottom=True) -> np.ndarray:
    """A map of a whole person: head, torso, two legs reaching the bottom row."""
    prob = np.zeros(map_hw, np.float32)
    prob[10:20, 75:85] = 1  # head
    prob[20:55, 68:92] = 1  # torso
    bottom = map_hw[0] if legs_to_bottom else 80
    prob[55:bottom, 70:74] = 1  # legs
    prob[55:bottom, 86:90] = 1
    return prob


def _close_up(map_hw=(90, 160)) -> np.ndarray:
    """Head and shoulders as a webcam at a desk frames them: cut through the torso."""
    prob = np.zeros(map_hw, np.float32)
    prob[5:45, 60:100] = 1  # head
    prob[45:, 30:130] = 1  # shoulders and chest, down to the frame's bottom
    return prob


def test_a_torso_cut_off_by_the_frame_is_a_close_up_legs_are_not():
    frame_w, frame_h = 1280, 720
    standing = main_person(_standing(), frame_w, frame_h)
    assert standing is not None and 0 < standing.cut_width < 0.5  # two feet on the edge
    assert not close_up(standing, frame_h)
    assert not close_up(main_person(_standing(legs_to_bottom=False), frame_w, frame_h),
                        frame_h)
    webcam = main_person(_close_up(), frame_w, frame_h)
    assert webcam is not None and webcam.cut_width == 1.0
    assert close_up(webcam, frame_h)
    assert main_person(np.zeros((90, 160), np.float32), frame_w, frame_h) is None


def test_a_close_up_stays_one_until_the_person_is_well_below_its_limits():
    frame_w, frame_h = 1280, 720
    holding = _close_up()
    holding[45:60, 0:30] = 1  # a guitar's neck held out to the side: the box widens
    holding[80:, 30:130] = 0
    holding[80:, 40:105] = 1  # 65 of the box's 130 columns on the bottom row ...
    holding[89, 104] = 0  # ... less one: just under half
    person = main_person(holding, frame_w, frame_h)
    assert person is not None and 0.45 < person.cut_width < CUT_TORSO
    assert not close_up(person, frame_h)  # seen so first: not a close-up
    assert close_up(person, frame_h, was_close_up=True)  # after one: it stays one
    standing = main_person(_standing(), frame_w, frame_h)
    assert not close_up(standing, frame_h, was_close_up=True)  # legs: no longer


def test_a_person_at_a_desk_holding_a_guitar_out_to_the_side_never_gets_the_pose_model():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
    looked = []
    # frames 107-113 and 169-172 were under half on the bottom row
    for frame in read_frames(MEDIA / "guitar_320.mp4", limit=180):
        segmenter.probability_map(frame)
        looked.append(segmenter.looked)
    assert len(looked) == 180 and not any(looked)


def test_the_main_person_found_by_outlines_is_the_one_labelling_finds():
    """main_person sizes regions by their outlines, not by labelling their pixels (a
    fifth of the cost). It picks the region labelling picks, its box and its share of
    the bottom row, unless two regions are within a few percent of the same size."""
    from camfx.models.segmentation import pose_assist

    rng = np.random.default_rng(3)
    maps = [_standing(), _close_up()] + [
        (cv2.GaussianBlur(rng.random((90, 160)).astype(np.float32), (0, 0), sigma) - 0.5)
        * 8 + 0.5 for sigma in (3, 6) for _ in range(40)]
    for prob in maps:
        binary = (prob > 0.5).astype(np.uint8)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        largest = 1 + int(np.argmax(areas))
        x, y, w, h = stats[largest, :4]
        found = pose_assist.main_person(prob, 160, 90)  # one frame pixel a cell
        assert found is not None
        if found.box != Box(x, y, w, h):
            runner_up = np.sort(areas)[-2]
            assert runner_up > 0.9 * areas.max(), "a clearly larger region was passed over"
            continue
        on_bottom = np.count_nonzero(labels[-1] == largest)
        assert found.cut_width == pytest.approx(on_bottom / w)


def test_the_window_is_a_square_around_the_person_a_cut_off_one_at_its_top():
    whole = pose_window(Box(500, 100, 200, 500), frame_h=720)
    assert whole.w == whole.h == 625  # 1.25 x the longer side
    assert whole.x + whole.w / 2 == pytest.approx(600, abs=1)  # centred on them
    assert whole.y + whole.h / 2 == pytest.approx(350, abs=1)
    cut = pose_window(Box(400, 200, 400, 520), frame_h=720)  # reaches the bottom
    assert cut.w == cut.h == round(1.4 * 520)
    assert cut.y < 200 < cut.y + 0.1 * cut.h  # their head near the window's top
    assert cut.y + cut.h > 720  # the rest of the window past the frame: padded


def test_the_pose_model_adds_what_it_is_sure_of_and_cannot_remove_what_the_base_is_sure_of():
    base = np.full((100, 100), 0.02, np.float32)  # near the pose's person: 8 cells
    base[20:80, 52:56] = 0.995  # a part the base model is sure of (a worn harness, say)
    base[20:80, 56:60] = 0.6  # a part it is unsure of
    base[20:80, 60:66] = 0.1  # an arm it missed
    base[20:80, 5:12] = 0.99  # somebody else, far from the pose model's person
    pose = np.zeros_like(base)
    pose[20:80, 60:70] = 0.99  # the pose model: its person is the arm and beyond
    out = second_opinion(base, PoseView(pose, (slice(0, 100), slice(0, 100))))
    assert (out[20:80, 52:56] > 0.5).all()  # floored: the sure part stays
    assert (out[20:80, 56:60] < 0.5).all()  # the unsure part next to it goes
    assert (out[20:80, 60:66] > 0.5).all()  # the missed arm comes back
    assert np.array_equal(out[:, :40], base[:, :40])  # the other person: the base's to judge


def test_near_is_the_person_grown_by_a_disc_of_the_reach():
    person = np.zeros((256, 455), bool)
    cv2.ellipse(person.view(np.uint8), (200, 130), (40, 100), 10, 0, 360, 1, -1)
    reach = 36
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
    dilated = cv2.dilate(person.astype(np.uint8), disc) > 0
    grown = near(person, reach)
    assert grown[person].all()
    dot = np.zeros_like(person)
    dot[128, 228] = True  # the reach, in every direction
    assert near(dot, reach)[128, 228 + reach] and not near(dot, reach)[128, 229 + reach]
    assert near(dot, reach)[128 - reach, 228] and not near(dot, reach)[127 - reach, 228]
    assert np.count_nonzero(grown != dilated) < 0.01 * np.count_nonzero(dilated)
    assert not near(np.zeros((8, 8), bool), reach).any()


def _still_iou(segmenter_name: str, name: str) -> float:
    segmenter = create_segmenter(segmenter_name, threads=2, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    image = cv2.imread(str(REAL / "images" / f"{name}.jpg"))
    truth = cv2.imread(str(REAL / "masks" / f"{name}.png"), cv2.IMREAD_GRAYSCALE) >= 128
    for _ in range(real_eval.STILL_REPEATS):
        mask = refiner.refine(image, segmenter.probability_map(image))
    return real_eval.score(mask >= 0.5, truth)[0]


def test_a_whole_person_is_masked_better_with_the_pose_model():
    """Real street photos (CCP): arms held out from the body (ccp_0636) and a dark coat on
    a dark street (ccp_0970), where the selfie pair lost parts of them (measured
    0.907 -> 0.943 and 0.900 -> 0.952)."""
    for name in ("ccp_0636", "ccp_0970"):
        assert _still_iou(DEFAULT_SEGMENTER, name) > _still_iou("selfie-pair", name) + 0.02


def test_at_a_webcams_framing_the_pose_model_does_not_run_and_changes_nothing():
    default = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
    pair = create_segmenter("selfie-pair", threads=1, device="cpu")
    runs = []
    run = default.pose._run
    default.pose._run = lambda picture: runs.append(1) or run(picture)
    room = next(real_eval.rooms(REAL, MEDIA / "portrait_720.mp4", quick=True))
    for frame in room.frames[:8]:
        assert np.array_equal(default.probability_map(frame), pair.probability_map(frame))
        assert not default.looked
    assert runs == []


def test_a_repeated_frame_gets_the_same_map_without_the_pose_model_running_again():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
    runs = []
    run = segmenter.pose._run
    segmenter.pose._run = lambda picture: runs.append(1) or run(picture)
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    for _ in range(real_eval.STILL_REPEATS):  # the pair's tracking settles
        settled = segmenter.probability_map(image.copy())
    assert segmenter.looked and runs
    looks = len(runs)
    assert all(segmenter.probability_map(image.copy()) is settled for _ in range(8))
    assert len(runs) == looks  # nothing new: the pose model did not run again


def test_at_a_distance_the_pose_model_runs_every_frame_the_pair_every_second_light_each_half():
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))  # a whole person, standing
    frames = [np.roll(image, 3 * i, axis=1) for i in range(8)]  # a person moving
    runs: dict[tuple[bool, str], list[int]] = {}
    for light in (False, True):
        segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
        segmenter.light = light
        for part, owner, method in (("pose", segmenter.pose, "_run"),
                                    ("pair", segmenter.base, "probability_map")):
            counted, run = runs.setdefault((light, part), []), getattr(owner, method)
            setattr(owner, method, lambda *args, run=run, counted=counted: (
                counted.append(1) or run(*args)))
        for frame in frames:
            prob = segmenter.probability_map(frame)
            assert segmenter.looked  # the pose model has its say on every frame ...
            assert not np.array_equal(prob, segmenter._base_last)
        assert segmenter.light_saves_ms > 0
    # ... full: the pose model runs on every frame, the pair on every second one (its
    # map moved to the frames between); light: the pose model runs on half of them, the
    # pair on the other half (the first frame gets both: there is no view yet)
    assert len(runs[False, "pose"]) == 8 and len(runs[False, "pair"]) == 4
    assert len(runs[True, "pose"]) == 4 and len(runs[True, "pair"]) == 5


def test_a_person_the_pair_loses_for_a_frame_is_looked_for_where_they_were():
    """Under a lamp's warm cast the pair lost the twirling dancer on frames 6 and 7 (its
    map had no person left: the pose model did not run, IoU 0.32 and 0.41). A person
    does not vanish between two frames: the pose model looks where the last map had her."""
    warm = next(c for c in CONDITIONS if c.name == "warm")
    clip = next(s for s in real_eval.clips(REAL) if s.name == "davis_dance_twirl")
    seen = under(clip, warm)
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    for index, frame in enumerate(seen.frames[:8]):
        mask = refiner.refine(frame, segmenter.probability_map(frame))
        if index >= 5:
            assert segmenter.looked, index
            assert real_eval.score(mask >= 0.5, seen.truths[index],
                                   seen.ignores[index])[0] > 0.75, index


def _hockey_with_and_without_the_move(light, unmove, counted):
    """Mean IoU on the hockey clip's first 24 frames that `counted(segmenter, index,
    frame)` picks (asked before the frame is segmented), with the map of the frame before
    moved by flow (True) and with `unmove(segmenter)` leaving it where it was (False)."""
    clip = next(s for s in real_eval.clips(REAL, quick=True) if s.name == "davis_hockey")
    scores = {}
    for moved in (True, False):
        segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
        segmenter.light = light
        if not moved:
            unmove(segmenter)
        refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
        ious = []
        for index, frame in enumerate(clip.frames):
            counts = counted(segmenter, index, frame)
            mask = refiner.refine(frame, segmenter.probability_map(frame))
            if counts:
                assert segmenter.looked
                ious.append(real_eval.score(mask >= 0.5, clip.truths[index],
                                            clip.ignores[index])[0])
        assert len(ious) >= len(clip.frames) // 2 - 1
        scores[moved] = float(np.mean(ious))
    return scores


def test_light_mode_moves_the_pose_models_view_of_the_frame_before_with_the_player():
    """On the light mode's turns without the pose model its view is a frame old; a
    hockey player skating fast has moved since. Moved with the picture's own motion,
    those turns' masks on the clip's first 24 frames measured 0.018 closer to the truth
    (0.843 against 0.825)."""
    def unmove(segmenter):
        segmenter._followed = lambda *args: segmenter._view

    scores = _hockey_with_and_without_the_move(
        True, unmove, lambda segmenter, index, frame: index and not segmenter._pose_turn(frame))
    assert scores[True] > scores[False] + 0.008


def test_the_full_modes_resting_pair_map_is_moved_with_the_player():
    """At a distance the full mode rests the pair every second frame; its map of the
    frame before, moved with the picture's motion (as the light mode's pose view),
    measured 0.857 on the hockey clip's first 24 frames, 0.844 left where it was (all
    the real clips, the pose model at 256 and the whole map moved: 0.9011 moved, 0.8980
    unmoved, 0.9017 the pair on every frame)."""
    def unmove(segmenter):
        segmenter._base_moved = lambda *args: segmenter._base_last

    scores = _hockey_with_and_without_the_move(
        False, unmove, lambda segmenter, index, frame: segmenter._base_rests(frame))
    assert scores[True] > scores[False] + 0.008, scores


@pytest.mark.parametrize("light", [False, True])
def test_after_a_reset_a_stream_gets_the_maps_a_new_segmenter_gives(light):
    """Each clip of the eval is a new stream on the same segmenter, reset: nothing of the
    streams before may reach its masks (OpenCV's optical flow carried picture sizes
    over: the twirl's second frame differed by 0.72)."""
    clips = {c.name: c for c in real_eval.clips(REAL, quick=True)}
    first, other = clips["davis_dance_twirl"].frames[:4], clips["davis_hockey"].frames[:4]
    fresh = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
    used = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
    fresh.light = used.light = light
    for frame in other:
        used.probability_map(frame)
    used.reset()
    for frame in first:
        assert np.array_equal(fresh.probability_map(frame), used.probability_map(frame))
    assert fresh.looked


def test_the_pair_does_not_rest_while_the_frames_side_cuts_the_person():
    """A woman walking in from the right edge, 60 px a frame: what enters the frame the
    flow cannot move in, so while the side cuts her the pair runs every frame (resting,
    it lost her on the second frame: 0.98 of her shown, then 0.002)."""
    from camfx_eval import newcomers

    frames, truths = newcomers.walking_in(newcomers.load(SHARED))
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    start = newcomers.APPEARS + 1  # her first frame inside
    for index, frame in enumerate(frames[: start + 4]):
        rests = segmenter._base_rests(frame)
        mask = refiner.refine(frame, segmenter.probability_map(frame))
        if index >= start:
            assert not rests, index
            assert (mask >= 0.5)[truths[index]].mean() > 0.9, index

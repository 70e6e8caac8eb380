"""Cube geometry: homographies, quads, which faces are visible, the context list, cube slots."""

import numpy as np
import pytest

from data_gen.cubes import slot_contexts, slot_visible, slot_yaws
from data_gen.geometry import (
    TEXTURE_CORNERS,
    Camera,
    apply_homography,
    cube_fits,
    face_corners,
    face_visible,
    homography,
    make_contexts,
    nearest_context,
    quad_px,
    side_visible_limit_deg,
)

CAMERA = Camera(elevation_deg=30.0, distance=4.0, fov_deg=28.0, size=48)
CONTEXTS = make_contexts(CAMERA, 34, 66)


@pytest.mark.parametrize("face,yaw", [("side", -70.0), ("side", 0.0), ("side", 33.3), ("top", 0.0), ("top", 123.0)])
def test_homography_carries_texture_corners_and_centre(face, yaw):
    h = homography(CAMERA, face, yaw)
    assert np.allclose(apply_homography(h, TEXTURE_CORNERS), quad_px(CAMERA, face, yaw), atol=1e-9)
    # A point the corners do not pin down: the texture centre lands on the face centre's projection.
    centre_px = CAMERA.project(face_corners(face, yaw).mean(0))
    assert np.allclose(apply_homography(h, np.array([[13.5, 13.5]]))[0], centre_px, atol=1e-9)


def test_front_face_quad_is_upright_and_below_the_top_face():
    side, top = quad_px(CAMERA, "side", 0.0), quad_px(CAMERA, "top", 0.0)
    assert side[0, 0] < side[1, 0] and side[0, 1] < side[3, 1]  # TL left of TR, above BL: digit upright
    assert np.allclose(top[3], side[0]) and np.allclose(top[2], side[1])  # they share the front top edge
    assert top[0, 1] < side[0, 1]  # the top face lies above the front face in the frame (y down)


def test_34_side_and_66_top_contexts_with_visible_yaws():
    faces = [c.face for c in CONTEXTS]
    assert faces == ["side"] * 34 + ["top"] * 66
    assert [c.index for c in CONTEXTS] == list(range(100))
    side = np.array([c.yaw_deg for c in CONTEXTS[:34]])
    top = np.array([c.yaw_deg for c in CONTEXTS[34:]])
    assert np.all((side > -90) & (side < 90)) and np.all(np.diff(side) > 0)
    limit = side_visible_limit_deg(CAMERA)
    assert 0 < limit < 90 and side.min() > -limit and side.max() < limit
    assert face_visible(CAMERA, "side", side).all() and face_visible(CAMERA, "top", top).all()
    assert top[0] == 0 and np.all(np.diff(top) > 0) and top[-1] < 360
    assert np.allclose(np.diff(top), 360 / 66)


def test_side_face_visibility_ends_at_the_limit():
    limit = side_visible_limit_deg(CAMERA)
    assert face_visible(CAMERA, "side", np.array([limit - 0.01, -(limit - 0.01)])).all()
    assert not face_visible(CAMERA, "side", np.array([limit + 0.01, -(limit + 0.01), 120.0])).any()


def test_nearest_context_wraps_the_top_turn():
    assert nearest_context(CONTEXTS, "top", np.array([359.0]))[0] == 34  # nearer 0 than 354.5
    assert nearest_context(CONTEXTS, "top", np.array([360 / 66 * 5 + 0.1]))[0] == 34 + 5
    assert nearest_context(CONTEXTS, "side", np.array([0.1]))[0] == 17  # bins are symmetric about 0


def test_cube_fits_only_with_a_wide_enough_view():
    assert cube_fits(CAMERA)
    assert not cube_fits(Camera(30.0, 4.0, 15.0, 48))


def test_cube_slots_agree_with_the_cube_yaw():
    yaws = np.array([0.0, 5.0, 44.9, 45.0, 80.0, 89.99])
    slots = slot_yaws(yaws)
    assert np.allclose(slots[:, 0], yaws) and np.allclose(slots[:, 1], yaws) and np.allclose(slots[:, 2], yaws - 90)
    visible = slot_visible(CAMERA, yaws)
    assert visible[:, 0].all()
    assert not visible[0, 2] and not visible[-1, 1]  # edge-on at 0 (side B) and near 90 (side A)
    found = slot_contexts(CAMERA, CONTEXTS, yaws)
    assert np.all(found[~visible] == -1) and np.all(found[visible] >= 0)
    half_bin_side = side_visible_limit_deg(CAMERA) / 34
    for k in range(len(yaws)):
        for j, face in enumerate(("top", "side", "side")):
            if visible[k, j]:
                ctx = CONTEXTS[found[k, j]]
                diff = (slots[k, j] - ctx.yaw_deg + 180) % 360 - 180
                assert ctx.face == face
                assert abs(diff) <= (180 / 66 if face == "top" else half_bin_side) + 1e-9

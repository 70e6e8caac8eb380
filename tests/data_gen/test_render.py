"""The renderers: masks match the quads, ink stays inside them, sparse == grid_sample == PIL."""

import numpy as np
import pytest
import torch
from PIL import Image

from data_gen.cubes import compose_contexts, paint_cubes, slot_contexts
from data_gen.geometry import Camera, homography, make_contexts, quad_px
from data_gen.render import SparseRenderer, context_grids, masks, render_grid_sample

CAMERA = Camera(30.0, 4.0, 28.0, 32)
CONTEXTS = make_contexts(CAMERA, 34, 66)


@pytest.fixture(scope="module")
def digits(mnist_root):
    from data_gen.mnist import load_split

    images, _ = load_split(mnist_root, "test")
    return torch.from_numpy(images[:24].copy())


def cross2(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def inside_distance(quad: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance of points to the nearest edge of a convex quad, positive inside."""
    edges = np.roll(quad, -1, 0) - quad
    orientation = np.sign(cross2(edges[0], edges[1]))
    inward = orientation * np.stack([-edges[:, 1], edges[:, 0]], 1) / np.linalg.norm(edges, axis=1, keepdims=True)
    return ((points[:, None, :] - quad[None]) * inward[None]).sum(-1).min(1)


@pytest.mark.parametrize("supersample", [1, 2])
def test_each_mask_matches_its_quad(supersample):
    m = masks(context_grids(CAMERA, CONTEXTS, supersample), supersample).numpy()
    ys, xs = np.mgrid[0 : CAMERA.size, 0 : CAMERA.size]
    centres = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    assert m.min() >= 0 and m.max() <= 1
    for c in CONTEXTS:
        quad = quad_px(CAMERA, c.face, c.yaw_deg)
        d = inside_distance(quad, centres).reshape(m.shape[1:])
        assert np.all(m[c.index][d > 1.5] > 0.99), c  # well inside: fully covered
        assert np.all(m[c.index][d < -1.5] == 0), c  # well outside: nothing
        area = 0.5 * abs(cross2(quad[2] - quad[0], quad[3] - quad[1]))  # shoelace via the diagonals
        assert m[c.index].sum() == pytest.approx(area, rel=0.12, abs=2.0), c  # coverage = the quad's area


@pytest.mark.parametrize("supersample", [1, 2])
def test_sparse_operator_equals_grid_sample_and_ink_stays_in_masks(digits, supersample):
    grids = context_grids(CAMERA, CONTEXTS, supersample)
    a = render_grid_sample(digits, grids, supersample)
    b = SparseRenderer(grids, supersample)(digits, block=7)  # uneven blocks exercise the block loop
    assert a.shape == b.shape == (len(digits), 100, 32, 32) and a.dtype == b.dtype == torch.uint8
    diff = (a.int() - b.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3  # float summation order only
    assert b.float().sum() > 0
    m = masks(grids, supersample)
    assert torch.all(b.float() <= 255 * m + 0.5)  # ink bounded by coverage, so none outside a mask


def test_matches_pil_perspective_transform(digits):
    """An independent implementation of the same homography: PIL, corner-origin pixels."""
    shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
    ours = SparseRenderer(context_grids(CAMERA, CONTEXTS, 1), 1)(digits[:2]).numpy().astype(float)
    for c in CONTEXTS[::7]:
        m = shift @ np.linalg.inv(homography(CAMERA, c.face, c.yaw_deg)) @ np.linalg.inv(shift)
        coefficients = tuple((m / m[2, 2]).ravel()[:8])
        pil = Image.fromarray(digits[0].numpy()).transform((32, 32), Image.PERSPECTIVE, coefficients, Image.BILINEAR)
        assert np.abs(np.asarray(pil, dtype=float) - ours[0, c.index]).mean() < 0.5, c


def test_painted_cube_is_close_to_its_contexts(digits):
    yaws = np.array([3.0, 30.0, 61.0, 87.0])
    textures = digits[:12].view(4, 3, 28, 28)
    cubes = paint_cubes(textures, yaws, CAMERA, 2)
    found = torch.from_numpy(slot_contexts(CAMERA, CONTEXTS, yaws).astype(np.int64))
    m = masks(context_grids(CAMERA, CONTEXTS, 2), 2)
    for k in range(4):
        union = m[found[k][found[k] >= 0]].amax(0)
        ink = cubes[k].float()
        assert ink.sum() > 0 and (ink * union).sum() / ink.sum() > 0.8  # the faces sit on their contexts
    # Snapped to the contexts, a cube is the sum of its faces' context images: compose_contexts.
    sparse = SparseRenderer(context_grids(CAMERA, CONTEXTS, 2), 2)
    per_slot = torch.stack([sparse(textures[:, j]) for j in range(3)], 1).float()  # [K, 3, C, H, W]
    images = torch.zeros(4, 100, 32, 32)
    expected = torch.zeros(4, 32, 32)
    for k in range(4):
        for j in range(3):
            if found[k, j] >= 0:
                images[k, found[k, j]] += per_slot[k, j, found[k, j]]
                expected[k] += per_slot[k, j, found[k, j]]
    assert expected.sum() > 0
    assert torch.allclose(compose_contexts(images, found), expected)


def test_reused_output_buffer_gives_fresh_results(digits):
    """The sparse renderer writes only covered pixels, so a reused buffer must come out identical."""
    sparse = SparseRenderer(context_grids(CAMERA, CONTEXTS, 2), 2)
    buffer = torch.zeros(12, *sparse.shape, dtype=torch.uint8)
    sparse(digits[:12], out=buffer)
    again = sparse(digits[12:24], out=buffer)
    assert again.data_ptr() == buffer.data_ptr()
    assert torch.equal(again, sparse(digits[12:24]))


@pytest.mark.parametrize("supersample", [1, 2])
def test_grids_computed_on_a_device_equal_the_numpy_ones(supersample):
    """generate-cubes computes the painted cubes' per-cube grids on the GPU (torch, float64) and the
    contexts' grids on the CPU (numpy): the same map, run here on the CPU through both."""
    from data_gen.render import _grids_on_device, grids_for_homographies

    yaws = np.random.default_rng(0).uniform(0.0, 90.0, 20)
    h = np.stack([homography(CAMERA, face, yaws) for face in ("top", "side")], 1).reshape(-1, 3, 3)
    h = np.concatenate([h, np.stack([homography(CAMERA, c.face, c.yaw_deg) for c in CONTEXTS])])
    numpy_grids = grids_for_homographies(h, CAMERA.size, supersample)
    device_grids = _grids_on_device(h, CAMERA.size, supersample, torch.device("cpu"))
    assert device_grids.dtype == torch.float32 and device_grids.shape == numpy_grids.shape
    assert torch.equal(numpy_grids < -10, device_grids < -10)  # the same pixels see the plane behind the camera
    torch.testing.assert_close(device_grids, numpy_grids, rtol=0, atol=1e-5)

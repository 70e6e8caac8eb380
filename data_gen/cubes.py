"""Whole cubes: every visible face of a cube turned by a yaw, painted with its own digit texture.

A cube image has three face *slots*: the top face, side A (the side face whose yaw lies in [0, 90))
and side B (the one whose yaw lies in [-90, 0)). Side B is edge-on at yaw 0 and hidden until it
turns into view, so its slot can be empty. Faces are painted at their exact angle; the context each
visible face falls in is the nearest context of the same face (ground truth for the concept stage).
"""

from __future__ import annotations

import numpy as np
import torch

from data_gen.geometry import Camera, Context, face_visible, homography, nearest_context
from data_gen.render import grids_for_homographies, to_uint8, warp

SLOTS = ("top", "side_a", "side_b")


def slot_yaws(cube_yaw_deg) -> np.ndarray:
    """Yaw of each face slot [..., 3] (top, side A, side B) for a cube turned by cube_yaw_deg."""
    yaw = np.asarray(cube_yaw_deg, dtype=np.float64)
    side_a = np.mod(yaw, 90.0)
    return np.stack([np.mod(yaw, 360.0), side_a, side_a - 90.0], -1)


def slot_visible(camera: Camera, cube_yaw_deg) -> np.ndarray:
    yaws = slot_yaws(cube_yaw_deg)
    return np.stack(
        [
            face_visible(camera, "top", yaws[..., 0]),
            face_visible(camera, "side", yaws[..., 1]),
            face_visible(camera, "side", yaws[..., 2]),
        ],
        -1,
    )


def slot_contexts(camera: Camera, contexts: list[Context], cube_yaw_deg) -> np.ndarray:
    """Context index [..., 3] each face slot falls in (nearest by face and yaw); -1 where hidden."""
    yaws = slot_yaws(cube_yaw_deg)
    found = np.stack(
        [
            nearest_context(contexts, "top", yaws[..., 0]),
            nearest_context(contexts, "side", yaws[..., 1]),
            nearest_context(contexts, "side", yaws[..., 2]),
        ],
        -1,
    )
    return np.where(slot_visible(camera, cube_yaw_deg), found, -1)


def slot_grids(
    camera: Camera, cube_yaw_deg: np.ndarray, supersample: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """Sampling grids [K, 3, H*s, W*s, 2] for the face slots of K cubes, on ``device`` (default: the
    CPU); hidden slots sample nothing."""
    yaws = slot_yaws(cube_yaw_deg)  # [K, 3]
    h = np.stack(
        [
            homography(camera, "top", yaws[:, 0]),
            homography(camera, "side", yaws[:, 1]),
            homography(camera, "side", yaws[:, 2]),
        ],
        1,
    )  # [K, 3, 3, 3]
    grids = grids_for_homographies(h.reshape(-1, 3, 3), camera.size, supersample, device)
    hidden = torch.from_numpy(~slot_visible(camera, cube_yaw_deg).reshape(-1)).to(grids.device)
    grids[hidden] = -10.0  # far off the texture: zero padding paints nothing
    return grids.view(len(yaws), 3, *grids.shape[1:])


def paint_cubes(
    textures: torch.Tensor,
    cube_yaw_deg: np.ndarray,
    camera: Camera,
    supersample: int,
    device: torch.device | str = "cpu",
    samples_per_step: int = 2**21,
) -> torch.Tensor:
    """uint8 images [K, H, W] of K cubes, slot j of cube k painted with textures[k, j] ([K, 3, 28, 28]).

    Visible faces of a convex solid do not overlap in the image, so the faces are summed (a pixel on
    a shared edge gets each face's share of its coverage). Each cube needs its own grids, so cubes
    go ``samples_per_step`` grid points at a time to keep memory bounded.
    """
    k = textures.shape[0]
    yaws = np.asarray(cube_yaw_deg, dtype=np.float64)
    step = max(1, samples_per_step // (len(SLOTS) * (camera.size * supersample) ** 2))
    out = torch.empty(k, camera.size, camera.size, dtype=torch.uint8, device=device)
    for i in range(0, k, step):
        tex = textures[i : i + step].to(device=device, dtype=torch.float32)
        grids = slot_grids(camera, yaws[i : i + step], supersample, device).flatten(0, 1)
        faces = warp(tex.reshape(-1, 1, *tex.shape[2:]), grids, supersample)
        out[i : i + step] = to_uint8(faces.view(len(tex), len(SLOTS), *faces.shape[2:]).sum(1))
    return out


def compose_contexts(context_images: torch.Tensor, contexts: torch.Tensor) -> torch.Tensor:
    """A cube image from per-context renders: images [K, C, H, W] and the context of each slot
    [K, 3] (-1 = none) give [K, H, W], the sum of the chosen contexts' images. Later stages use it to
    turn decoded contexts back into a cube."""
    valid = contexts >= 0
    picked = context_images.gather(1, contexts.clamp(min=0)[..., None, None].expand(-1, -1, *context_images.shape[2:]))
    return (picked.float() * valid[..., None, None]).sum(1)

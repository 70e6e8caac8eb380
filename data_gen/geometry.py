"""Cube, pinhole camera and the homographies that carry a 28x28 digit texture onto a cube face.

World: a unit cube centred at the origin, z up. The camera sits at ``distance`` from the centre,
``elevation`` degrees above the horizon, on the -y side, looking at the centre. The cube turns
about z by a yaw (counter-clockwise seen from above).

A *context* is one face in one orientation: a side face whose outward normal is the front normal
(0, -1, 0) turned by ``yaw``, or the top face with its texture turned by ``yaw``. Pixel coordinates
follow the issue: origin at the centre of the top-left pixel, x right, y down. Texture coordinates
follow the same rule in the 28x28 digit image, so its outer corners are at -0.5 and 27.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEXTURE = 28  # MNIST digits are 28x28
# Texture outer corners in texture pixels: top-left, top-right, bottom-right, bottom-left.
TEXTURE_CORNERS = np.array([[-0.5, -0.5], [TEXTURE - 0.5, -0.5], [TEXTURE - 0.5, TEXTURE - 0.5], [-0.5, TEXTURE - 0.5]])


@dataclass(frozen=True)
class Camera:
    elevation_deg: float
    distance: float
    fov_deg: float  # full horizontal (= vertical) field of view of the square frame
    size: int  # frame is size x size pixels

    @classmethod
    def from_config(cls, cfg) -> Camera:
        """From a generate-cubes config (``camera.*`` and ``render.size``; a dict or an OmegaConf node)."""
        cam = cfg["camera"]
        return cls(
            float(cam["elevation_deg"]), float(cam["distance"]), float(cam["fov_deg"]), int(cfg["render"]["size"])
        )

    @property
    def position(self) -> np.ndarray:
        e = np.radians(self.elevation_deg)
        return self.distance * np.array([0.0, -np.cos(e), np.sin(e)])

    @property
    def rotation(self) -> np.ndarray:
        """Rows: camera right, up, forward, in world coordinates."""
        e = np.radians(self.elevation_deg)
        return np.array([[1.0, 0.0, 0.0], [0.0, np.sin(e), np.cos(e)], [0.0, np.cos(e), -np.sin(e)]])

    @property
    def intrinsics(self) -> np.ndarray:
        """Camera coordinates (right, up, forward) to homogeneous pixels (y down, origin at pixel centre)."""
        f = (self.size / 2) / np.tan(np.radians(self.fov_deg) / 2)
        c = (self.size - 1) / 2
        return np.array([[f, 0.0, c], [0.0, -f, c], [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points [..., 3] to pixel coordinates [..., 2]."""
        cam = (points - self.position) @ self.rotation.T
        pix = cam @ self.intrinsics.T
        return pix[..., :2] / pix[..., 2:3]

    def world_to_pixels(self) -> np.ndarray:
        """3x4 projection matrix: homogeneous world point to homogeneous pixel."""
        r = self.rotation
        return self.intrinsics @ np.hstack([r, -(r @ self.position)[:, None]])


def _rot_z(yaw_deg: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] about z."""
    a = np.radians(np.asarray(yaw_deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def face_corners(face: str, yaw_deg) -> np.ndarray:
    """3D positions [..., 4, 3] of the texture's corners (TL, TR, BR, BL) on a face at ``yaw_deg``.

    Side: the texture stands upright, its x axis running left to right as seen from outside.
    Top: at yaw 0 the digit's top points away from the camera, so it reads upright from the front.
    """
    if face == "side":
        local = np.array([[-0.5, -0.5, 0.5], [0.5, -0.5, 0.5], [0.5, -0.5, -0.5], [-0.5, -0.5, -0.5]])
    elif face == "top":
        local = np.array([[-0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [-0.5, -0.5, 0.5]])
    else:
        raise ValueError(f"unknown face {face!r}")
    return local @ np.swapaxes(_rot_z(yaw_deg), -1, -2)


def face_normal(face: str, yaw_deg) -> np.ndarray:
    base = np.array([0.0, -1.0, 0.0]) if face == "side" else np.array([0.0, 0.0, 1.0])
    return _rot_z(yaw_deg) @ base


def face_visible(camera: Camera, face: str, yaw_deg) -> np.ndarray:
    """True where the face's outward normal points towards the camera (back faces are culled)."""
    corners = face_corners(face, yaw_deg)
    centre = corners.mean(-2)
    return ((camera.position - centre) * face_normal(face, yaw_deg)).sum(-1) > 0


def side_visible_limit_deg(camera: Camera) -> float:
    """A side face is visible for |yaw| below this: n . (camera - centre) > 0, i.e. d cos(e) cos(yaw) > 1/2."""
    horizontal = camera.distance * np.cos(np.radians(camera.elevation_deg))
    return float(np.degrees(np.arccos(min(1.0, 0.5 / horizontal)))) if horizontal > 0.5 else 0.0


def homography(camera: Camera, face: str, yaw_deg) -> np.ndarray:
    """3x3 matrices [..., 3, 3] taking homogeneous texture pixels (u, v, 1) to homogeneous frame pixels.

    Built from the camera and the face plane, not fitted to the corners, so the tests can check it
    against corners projected independently.
    """
    corners = face_corners(face, yaw_deg)
    tl, tr, bl = corners[..., 0, :], corners[..., 1, :], corners[..., 3, :]
    du = (tr - tl) / TEXTURE  # world step per texture pixel along u
    dv = (bl - tl) / TEXTURE
    origin = tl + 0.5 * du + 0.5 * dv  # world position of texture pixel centre (0, 0)
    zeros, ones = np.zeros(origin.shape[:-1] + (1,)), np.ones(origin.shape[:-1] + (1,))
    texture_to_world = np.stack(
        [np.concatenate([du, zeros], -1), np.concatenate([dv, zeros], -1), np.concatenate([origin, ones], -1)], -1
    )  # [..., 4, 3]
    return camera.world_to_pixels() @ texture_to_world


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map points [..., P, 2] through homographies [..., 3, 3]."""
    ph = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], -1) @ np.swapaxes(h, -1, -2)
    return ph[..., :2] / ph[..., 2:3]


def quad_px(camera: Camera, face: str, yaw_deg) -> np.ndarray:
    """Where the texture's outer corners (TL, TR, BR, BL) land in the frame: [..., 4, 2] pixels."""
    return camera.project(face_corners(face, yaw_deg))


def cube_corners(yaw_deg) -> np.ndarray:
    signs = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    return signs @ np.swapaxes(_rot_z(yaw_deg), -1, -2)


def cube_fits(camera: Camera, margin_px: float = 0.0) -> bool:
    """Whether every corner of the cube stays inside the frame at every yaw (90-degree symmetric)."""
    pix = camera.project(cube_corners(np.arange(0.0, 90.0, 0.5)))
    low, high = -0.5 + margin_px, camera.size - 0.5 - margin_px
    return bool(np.all((pix >= low) & (pix <= high)))


@dataclass(frozen=True)
class Context:
    index: int
    face: str
    yaw_deg: float


def make_contexts(camera: Camera, n_side: int, n_top: int) -> list[Context]:
    """The context list: n_side side-face yaws, then n_top top-face yaws.

    Side yaws are the centres of n_side equal bins over the visible range (-L, L), so every visible
    side face is within half a bin of a context and no context is edge-on. Top yaws split the full
    turn evenly, starting at 0.
    """
    limit = side_visible_limit_deg(camera)
    width = 2 * limit / n_side
    side = [-limit + (k + 0.5) * width for k in range(n_side)]
    top = [360.0 * k / n_top for k in range(n_top)]
    yaws = [("side", y) for y in side] + [("top", y) for y in top]
    return [Context(i, face, float(y)) for i, (face, y) in enumerate(yaws)]


def nearest_context(contexts: list[Context], face: str, yaw_deg: np.ndarray) -> np.ndarray:
    """Index of the context of the same face nearest in yaw (circular for the top face); -1 if none."""
    yaw_deg = np.asarray(yaw_deg, dtype=np.float64)
    idx = np.array([c.index for c in contexts if c.face == face])
    yaws = np.array([c.yaw_deg for c in contexts if c.face == face])
    if idx.size == 0:
        return np.full(yaw_deg.shape, -1)
    diff = yaw_deg[..., None] - yaws
    if face == "top":
        diff = (diff + 180.0) % 360.0 - 180.0
    return idx[np.abs(diff).argmin(-1)]


def wrap_deg(yaw_deg):
    """Angles into (-180, 180]."""
    return -((-np.asarray(yaw_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0)

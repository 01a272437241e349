# Copyright (c) distill3d contributors. All rights reserved.
"""Ray-casting simulation of a spinning LiDAR in synthetic street scenes.

The module is shared by the KITTI and SemanticKITTI generators. A scene is
described in a *world* frame whose x axis runs along a straight street
(x forward, y left, z up): a ground plane with a kerb-raised sidewalk,
and a set of primitives (oriented boxes, vertical cylinders and ellipsoids)
that carry a raw SemanticKITTI semantic id, an instance id and an optional
object index. :func:`cast_scan` transforms everything into the sensor frame
of a given pose and intersects the beams of a Velodyne-like sensor with it
(nearest hit wins, so occlusion is exact), then adds range noise, dropout
and an incidence-dependent intensity.

All randomness comes from the :class:`numpy.random.Generator` passed in, so
the output is a deterministic function of the seed.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

# Raw SemanticKITTI semantic ids (low 16 bits of a ``.label`` entry).
SEM_IDS: Dict[str, int] = dict(
    unlabeled=0,
    car=10,
    bicycle=11,
    motorcycle=15,
    truck=18,
    other_vehicle=20,
    person=30,
    bicyclist=31,
    motorcyclist=32,
    road=40,
    parking=44,
    sidewalk=48,
    other_ground=49,
    building=50,
    fence=51,
    vegetation=70,
    trunk=71,
    terrain=72,
    pole=80,
    traffic_sign=81)

# Mean reflectivity in [0, 1] of each semantic class, used for intensity.
REFLECTIVITY: Dict[int, float] = {
    0: 0.3, 10: 0.35, 11: 0.25, 15: 0.3, 18: 0.35, 20: 0.35, 30: 0.3,
    31: 0.3, 32: 0.3, 40: 0.22, 44: 0.25, 48: 0.3, 49: 0.28, 50: 0.3,
    51: 0.32, 70: 0.45, 71: 0.32, 72: 0.38, 80: 0.45, 81: 0.9
}

_REFL_LUT = np.full(max(REFLECTIVITY) + 1, 0.3)
for _sem, _refl in REFLECTIVITY.items():
    _REFL_LUT[_sem] = _refl

BOX, CYLINDER, ELLIPSOID = 0, 1, 2

# Semantic ids of ground regions whose surface is raised by the kerb.
RAISED_GROUND = (SEM_IDS['sidewalk'], SEM_IDS['terrain'],
                 SEM_IDS['other_ground'])


@dataclass
class LidarConfig:
    """Parameters of the simulated spinning LiDAR.

    The beams are split in two blocks like a Velodyne HDL-64E: a fraction
    ``upper_fraction`` of them densely covers the upper block
    ``[split_elevation, max_elevation]`` (far range), the others the lower
    block ``[min_elevation, split_elevation)`` (ground near the car).

    Args:
        num_beams (int): Number of lasers (rings). Defaults to 32.
        min_elevation (float): Lowest beam elevation in degrees.
            Defaults to -24.9 (KITTI's HDL-64E).
        max_elevation (float): Highest beam elevation in degrees.
            Defaults to 2.0.
        split_elevation (float): Elevation in degrees separating the dense
            upper block from the lower block. Defaults to -8.5.
        upper_fraction (float): Fraction of the beams in the upper block.
            Defaults to 0.625.
        azimuth_res (float): Horizontal angular step in degrees.
            Defaults to 0.5.
        max_range (float): Maximum measured range in metres.
            Defaults to 80.
        min_range (float): Minimum measured range in metres. Defaults to 1.
        range_noise (float): Standard deviation of the range noise in
            metres. Defaults to 0.02.
        dropout (float): Probability to lose a return at close range; it
            grows to ``2 * dropout`` at ``max_range``. Defaults to 0.03.
        intensity_noise (float): Standard deviation of the intensity noise.
            Defaults to 0.03.
        sensor_height (float): Height of the sensor above the road in
            metres. Defaults to 1.73 (KITTI).
    """
    num_beams: int = 32
    min_elevation: float = -24.9
    max_elevation: float = 2.0
    split_elevation: float = -8.5
    upper_fraction: float = 0.625
    azimuth_res: float = 0.5
    max_range: float = 80.0
    min_range: float = 1.0
    range_noise: float = 0.02
    dropout: float = 0.03
    intensity_noise: float = 0.03
    sensor_height: float = 1.73

    def elevations(self) -> np.ndarray:
        """Beam elevations in radians, sorted in ascending order.

        Returns:
            np.ndarray: Elevations of shape (num_beams, ).
        """
        n_up = int(round(self.num_beams * self.upper_fraction))
        n_up = min(max(n_up, 1), self.num_beams - 1)
        n_low = self.num_beams - n_up
        if self.num_beams == 1:
            return np.deg2rad(np.array([self.max_elevation]))
        lo = np.linspace(self.min_elevation, self.split_elevation, n_low,
                         endpoint=False)
        up = np.linspace(self.split_elevation, self.max_elevation, n_up)
        return np.deg2rad(np.concatenate([lo, up]))


class SceneBuilder:
    """Accumulates primitives of a scene before it is frozen.

    Every primitive is stored as ``(cx, cy, cz, sx, sy, sz, yaw)`` where
    ``(cx, cy, cz)`` is its geometric centre and ``(sx, sy, sz)`` its extent
    along its local axes (for a cylinder ``sx = sy = 2 * radius``; for an
    ellipsoid the extents are twice the semi-axes).
    """

    def __init__(self) -> None:
        self.kind: List[int] = []
        self.params: List[Sequence[float]] = []
        self.sem: List[int] = []
        self.inst: List[int] = []
        self.obj: List[int] = []
        self.refl: List[float] = []
        self.porosity: List[float] = []
        self.roughness: List[float] = []

    def __len__(self) -> int:
        return len(self.kind)

    def _add(self, kind: int, params: Sequence[float], sem: int, inst: int,
             obj: int, refl: Optional[float], porosity: float,
             roughness: float) -> None:
        self.kind.append(kind)
        self.params.append([float(v) for v in params])
        self.sem.append(int(sem))
        self.inst.append(int(inst))
        self.obj.append(int(obj))
        self.refl.append(REFLECTIVITY.get(sem, 0.3) if refl is None else
                         float(refl))
        self.porosity.append(float(porosity))
        self.roughness.append(float(roughness))

    def add_box(self,
                center: Sequence[float],
                size: Sequence[float],
                yaw: float,
                sem: int,
                inst: int = 0,
                obj: int = -1,
                refl: Optional[float] = None,
                porosity: float = 0.,
                roughness: float = 0.) -> None:
        """Add an oriented box (rotated about z by ``yaw``).

        Args:
            center (Sequence[float]): Geometric centre (x, y, z).
            size (Sequence[float]): Extent (sx, sy, sz) along local axes.
            yaw (float): Rotation about z in radians.
            sem (int): Raw SemanticKITTI semantic id.
            inst (int): Instance id, 0 for stuff. Defaults to 0.
            obj (int): Index of the annotated object the primitive belongs
                to, -1 for none. Defaults to -1.
            refl (float, optional): Reflectivity; the class default when
                None. Defaults to None.
            porosity (float): Probability that a ray passes through.
                Defaults to 0.
            roughness (float): Extra range noise (std, metres).
                Defaults to 0.
        """
        self._add(BOX, [*center, *size, yaw], sem, inst, obj, refl, porosity,
                  roughness)

    def add_cylinder(self,
                     x: float,
                     y: float,
                     z0: float,
                     z1: float,
                     radius: float,
                     sem: int,
                     inst: int = 0,
                     obj: int = -1,
                     refl: Optional[float] = None,
                     porosity: float = 0.,
                     roughness: float = 0.) -> None:
        """Add a vertical cylinder from ``z0`` to ``z1`` (see add_box)."""
        self._add(CYLINDER,
                  [x, y, 0.5 * (z0 + z1), 2 * radius, 2 * radius, z1 - z0, 0.],
                  sem, inst, obj, refl, porosity, roughness)

    def add_ellipsoid(self,
                      center: Sequence[float],
                      radii: Sequence[float],
                      yaw: float,
                      sem: int,
                      inst: int = 0,
                      obj: int = -1,
                      refl: Optional[float] = None,
                      porosity: float = 0.,
                      roughness: float = 0.) -> None:
        """Add an ellipsoid with semi-axes ``radii`` (see add_box)."""
        self._add(ELLIPSOID, [*center, *(2 * np.asarray(radii)), yaw], sem,
                  inst, obj, refl, porosity, roughness)

    def extend(self, other: 'SceneBuilder') -> None:
        """Append all primitives of another builder."""
        for name in ('kind', 'params', 'sem', 'inst', 'obj', 'refl',
                     'porosity', 'roughness'):
            getattr(self, name).extend(getattr(other, name))

    def build(self) -> 'Primitives':
        """Freeze the primitives into arrays.

        Returns:
            :obj:`Primitives`: The frozen primitives.
        """
        n = len(self.kind)
        return Primitives(
            kind=np.asarray(self.kind, dtype=np.int64).reshape(n),
            params=np.asarray(self.params, dtype=np.float64).reshape(n, 7),
            sem=np.asarray(self.sem, dtype=np.int64).reshape(n),
            inst=np.asarray(self.inst, dtype=np.int64).reshape(n),
            obj=np.asarray(self.obj, dtype=np.int64).reshape(n),
            refl=np.asarray(self.refl, dtype=np.float64).reshape(n),
            porosity=np.asarray(self.porosity, dtype=np.float64).reshape(n),
            roughness=np.asarray(self.roughness,
                                 dtype=np.float64).reshape(n))


@dataclass
class Primitives:
    """Frozen primitives of a scene (see :class:`SceneBuilder`).

    Args:
        kind (np.ndarray): Primitive type (BOX, CYLINDER, ELLIPSOID), (P, ).
        params (np.ndarray): ``(cx, cy, cz, sx, sy, sz, yaw)``, (P, 7).
        sem (np.ndarray): Raw SemanticKITTI semantic ids, (P, ).
        inst (np.ndarray): Instance ids, (P, ).
        obj (np.ndarray): Annotated object indices or -1, (P, ).
        refl (np.ndarray): Reflectivities, (P, ).
        porosity (np.ndarray): Pass-through probabilities, (P, ).
        roughness (np.ndarray): Extra range noise stds, (P, ).
    """
    kind: np.ndarray
    params: np.ndarray
    sem: np.ndarray
    inst: np.ndarray
    obj: np.ndarray
    refl: np.ndarray
    porosity: np.ndarray
    roughness: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def to_sensor(self, pose: Sequence[float]) -> 'Primitives':
        """Express the primitives in the frame of a level sensor.

        Args:
            pose (Sequence[float]): Sensor pose ``(x, y, z, yaw)`` in the
                world frame.

        Returns:
            :obj:`Primitives`: A copy in the sensor frame.
        """
        params = self.params.copy()
        x, y, z, yaw = pose
        c, s = np.cos(yaw), np.sin(yaw)
        dx, dy = params[:, 0] - x, params[:, 1] - y
        params[:, 0] = c * dx + s * dy
        params[:, 1] = -s * dx + c * dy
        params[:, 2] -= z
        params[:, 6] -= yaw
        return Primitives(self.kind, params, self.sem, self.inst, self.obj,
                          self.refl, self.porosity, self.roughness)

    def concat(self, other: 'Primitives') -> 'Primitives':
        """Concatenate two sets of primitives."""
        return Primitives(*[
            np.concatenate([getattr(self, k), getattr(other, k)])
            for k in ('kind', 'params', 'sem', 'inst', 'obj', 'refl',
                      'porosity', 'roughness')
        ])


def _in_intervals(x: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """Whether each value lies in one of sorted disjoint intervals.

    Args:
        x (np.ndarray): Values of any shape.
        intervals (np.ndarray): Sorted disjoint ``[start, end)``, (K, 2).

    Returns:
        np.ndarray: Boolean mask with the shape of ``x``.
    """
    if len(intervals) == 0:
        return np.zeros(np.shape(x), dtype=bool)
    i = np.searchsorted(intervals[:, 0], x, side='right') - 1
    ok = i >= 0
    i = np.clip(i, 0, None)
    return ok & (x < intervals[i, 1])


@dataclass
class StreetLayout:
    """Layout of a straight street running along the world x axis.

    Across the street (|y| growing) come the carriageway (road), an
    optional parking strip (only on ``park_intervals``), the sidewalk up to
    the property line, then terrain (grass) or other-ground (paved yards,
    on ``og_intervals``). Sidewalk, terrain and other-ground are raised by
    ``curb_height``. Index 0 of the per-side fields is the right side
    (y < 0), index 1 the left side (y > 0).

    Args:
        road_hw (float): Half width of the carriageway.
        lane_width (float): Width of a lane.
        park_w (float): Width of the parking strips.
        sidewalk_w (Tuple[float, float]): Width of the sidewalk where
            there is a parking strip, per side.
        park_intervals (List[np.ndarray]): Sorted x intervals with a
            parking strip, per side, each (K, 2).
        og_intervals (List[np.ndarray]): Sorted x intervals where the
            ground beyond the property line is other-ground, per side.
        plane (Tuple[float, float, float]): Road surface
            ``z = a * x + b * y + c``.
        curb_height (float): Kerb height. Defaults to 0.12.
    """
    road_hw: float
    lane_width: float
    park_w: float
    sidewalk_w: Tuple[float, float]
    park_intervals: List[np.ndarray]
    og_intervals: List[np.ndarray]
    plane: Tuple[float, float, float]
    curb_height: float = 0.12

    def prop_line(self, side: int) -> float:
        """Distance from the street axis to the property line of a side."""
        return self.road_hw + self.park_w + self.sidewalk_w[side]

    def curb_line(self, x: np.ndarray, side: int) -> np.ndarray:
        """Distance from the street axis to the kerb of a side at ``x``."""
        park = _in_intervals(np.asarray(x, dtype=np.float64),
                             self.park_intervals[side])
        return self.road_hw + self.park_w * park

    def region(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Semantic id of the ground at world positions.

        Args:
            x (np.ndarray): World x, any shape.
            y (np.ndarray): World y, same shape.

        Returns:
            np.ndarray: Raw SemanticKITTI ids (int64), shape of ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        a = np.abs(y)
        left = y > 0
        out = np.full(x.shape, SEM_IDS['road'], dtype=np.int64)
        for side in (0, 1):
            m = left if side else ~left
            curb = self.curb_line(x, side)
            prop = self.prop_line(side)
            og = _in_intervals(x, self.og_intervals[side])
            out[m & (a >= self.road_hw) & (a < curb)] = SEM_IDS['parking']
            out[m & (a >= curb) & (a < prop)] = SEM_IDS['sidewalk']
            beyond = m & (a >= prop)
            out[beyond & og] = SEM_IDS['other_ground']
            out[beyond & ~og] = SEM_IDS['terrain']
        return out

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height of the ground surface (kerb included) at world positions.

        Args:
            x (np.ndarray): World x, any shape.
            y (np.ndarray): World y, same shape.

        Returns:
            np.ndarray: Surface z, shape of ``x``.
        """
        a, b, c = self.plane
        z = a * np.asarray(x) + b * np.asarray(y) + c
        raised = np.isin(self.region(x, y), RAISED_GROUND)
        return z + self.curb_height * raised


def bev_corners(boxes: np.ndarray) -> np.ndarray:
    """Corners of BEV rectangles.

    Args:
        boxes (np.ndarray): ``(x, y, l, w, yaw)``, shape (N, 5).

    Returns:
        np.ndarray: Corners of shape (N, 4, 2).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    c, s = np.cos(boxes[:, 4]), np.sin(boxes[:, 4])
    hx = np.array([0.5, 0.5, -0.5, -0.5])[None] * boxes[:, 2:3]
    hy = np.array([0.5, -0.5, -0.5, 0.5])[None] * boxes[:, 3:4]
    x = boxes[:, :1] + c[:, None] * hx - s[:, None] * hy
    y = boxes[:, 1:2] + s[:, None] * hx + c[:, None] * hy
    return np.stack([x, y], axis=-1)


def bev_overlaps_pairs(boxes_a: np.ndarray,
                       boxes_b: np.ndarray,
                       margin: float = 0.) -> np.ndarray:
    """Separating-axis overlap test of BEV rectangles, pair by pair.

    Args:
        boxes_a (np.ndarray): ``(x, y, l, w, yaw)``, shape (..., 5).
        boxes_b (np.ndarray): Rectangles broadcastable with ``boxes_a``.
        margin (float): Clearance added to both half sizes of the
            ``boxes_a`` rectangles. Defaults to 0.

    Returns:
        np.ndarray: Boolean overlap mask of the broadcast shape.
    """
    a = np.array(boxes_a, dtype=np.float64)
    b = np.asarray(boxes_b, dtype=np.float64)
    a[..., 2:4] += 2 * margin
    a, b = np.broadcast_arrays(a, b)
    shape = a.shape[:-1]
    a, b = a.reshape(-1, 5), b.reshape(-1, 5)
    # bounding circles first
    ra = 0.5 * np.hypot(a[:, 2], a[:, 3])
    rb = 0.5 * np.hypot(b[:, 2], b[:, 3])
    near = np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1]) < ra + rb
    out = np.zeros(len(a), dtype=bool)
    idx = np.nonzero(near)[0]
    if len(idx):
        ca, cb = bev_corners(a[idx]), bev_corners(b[idx])  # (M, 4, 2)
        sep = np.zeros(len(idx), dtype=bool)
        for yaw in (a[idx, 4], b[idx, 4]):
            for ang in (yaw, yaw + np.pi / 2):
                axis = np.stack([np.cos(ang), np.sin(ang)], -1)[:, None]
                pa = (ca * axis).sum(-1)
                pb = (cb * axis).sum(-1)
                sep |= (pa.max(1) < pb.min(1)) | (pb.max(1) < pa.min(1))
        out[idx] = ~sep
    return out.reshape(shape)


def bev_overlaps(box: Sequence[float],
                 others: np.ndarray,
                 margin: float = 0.) -> np.ndarray:
    """Separating-axis overlap test of one BEV rectangle against many.

    Args:
        box (Sequence[float]): ``(x, y, l, w, yaw)``.
        others (np.ndarray): Rectangles of shape (N, 5).
        margin (float): Clearance added to both half sizes of ``box``.
            Defaults to 0.

    Returns:
        np.ndarray: Boolean overlap mask of shape (N, ).
    """
    others = np.asarray(others, dtype=np.float64).reshape(-1, 5)
    return bev_overlaps_pairs(
        np.asarray(box, dtype=np.float64)[None], others, margin)


def _intersect(kind: int, p: np.ndarray,
               dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Intersect rays from the origin with one primitive.

    Args:
        kind (int): Primitive type.
        p (np.ndarray): Parameters ``(cx, cy, cz, sx, sy, sz, yaw)``.
        dirs (np.ndarray): Unit ray directions of shape (R, 3).

    Returns:
        Tuple[np.ndarray, np.ndarray]: Hit distance (inf on a miss) and
        absolute cosine of the incidence angle, each of shape (R, ).
    """
    c, s = np.cos(p[6]), np.sin(p[6])
    if kind == CYLINDER:
        r = 0.5 * p[3]
        dx, dy = dirs[:, 0], dirs[:, 1]
        a = dx * dx + dy * dy
        b = -2 * (dx * p[0] + dy * p[1])
        cc = p[0] * p[0] + p[1] * p[1] - r * r
        disc = b * b - 4 * a * cc
        with np.errstate(invalid='ignore', divide='ignore'):
            t = (-b - np.sqrt(disc)) / (2 * a)
        z = t * dirs[:, 2]
        hit = (disc > 0) & (t > 0) & (np.abs(z - p[2]) <= 0.5 * p[5])
        t = np.where(hit, t, np.inf)
        with np.errstate(invalid='ignore'):
            nx = (t * dx - p[0]) / r
            ny = (t * dy - p[1]) / r
        cos = np.abs(nx * dx + ny * dy)
        return t, np.nan_to_num(cos)
    # local frame: rotate by -yaw about the primitive centre
    o = np.array([-(c * p[0] + s * p[1]), -(-s * p[0] + c * p[1]), -p[2]])
    dl = np.stack([c * dirs[:, 0] + s * dirs[:, 1],
                   -s * dirs[:, 0] + c * dirs[:, 1], dirs[:, 2]], axis=1)
    half = 0.5 * p[3:6]
    if kind == BOX:
        dl_safe = np.where(np.abs(dl) < 1e-12, 1e-12, dl)
        inv = 1. / dl_safe
        t1 = (-half - o) * inv
        t2 = (half - o) * inv
        tmin = np.minimum(t1, t2)
        tnear = tmin.max(1)
        tfar = np.maximum(t1, t2).min(1)
        hit = (tfar >= tnear) & (tnear > 0)
        t = np.where(hit, tnear, np.inf)
        axis = tmin.argmax(1)
        cos = np.abs(dl[np.arange(len(dl)), axis])
        return t, cos
    # ellipsoid
    os_ = o / half
    ds = dl / half
    a = (ds * ds).sum(1)
    b = 2 * (ds @ os_)
    cc = os_ @ os_ - 1
    disc = b * b - 4 * a * cc
    with np.errstate(invalid='ignore'):
        t = (-b - np.sqrt(disc)) / (2 * a)
    hit = (disc > 0) & (t > 0)
    t = np.where(hit, t, np.inf)
    with np.errstate(invalid='ignore'):
        n = (o + t[:, None] * dl) / (half * half)
        n /= np.linalg.norm(n, axis=1, keepdims=True)
    cos = np.abs((n * dl).sum(1))
    return t, np.nan_to_num(cos)


@dataclass
class Scan:
    """Result of :func:`cast_scan`.

    Args:
        points (np.ndarray): ``(x, y, z, intensity)`` in the sensor frame,
            float32 of shape (N, 4).
        sem (np.ndarray): Raw SemanticKITTI semantic ids, (N, ).
        inst (np.ndarray): Instance ids (0 for stuff), (N, ).
        obj (np.ndarray): Annotated object index or -1, (N, ).
        ring (np.ndarray): Beam index of each point, (N, ).
        obj_visible (np.ndarray): Rays whose nearest hit is each object
            (before dropout), (num_objects, ).
        obj_total (np.ndarray): Rays that would hit each object if nothing
            else were in the scene, (num_objects, ).
    """
    points: np.ndarray
    sem: np.ndarray
    inst: np.ndarray
    obj: np.ndarray
    ring: np.ndarray
    obj_visible: np.ndarray = field(default_factory=lambda: np.zeros(0))
    obj_total: np.ndarray = field(default_factory=lambda: np.zeros(0))


def sensor_plane(plane: Tuple[float, float, float],
                 pose: Sequence[float]) -> Tuple[float, float, float]:
    """Express a world plane ``z = a x + b y + c`` in a sensor frame.

    Args:
        plane (Tuple[float, float, float]): ``(a, b, c)`` in the world.
        pose (Sequence[float]): Sensor pose ``(x, y, z, yaw)``.

    Returns:
        Tuple[float, float, float]: ``(a', b', c')`` such that
        ``z = a' x + b' y + c'`` in the sensor frame.
    """
    a, b, c = plane
    x, y, z, yaw = pose
    cy, sy = np.cos(yaw), np.sin(yaw)
    return (a * cy + b * sy, -a * sy + b * cy, a * x + b * y + c - z)


def cast_scan(prims: Primitives,
              layout: StreetLayout,
              pose: Sequence[float],
              cfg: LidarConfig,
              rng: np.random.Generator,
              num_objects: int = 0) -> Scan:
    """Simulate one 360 degree sweep of the LiDAR.

    Args:
        prims (:obj:`Primitives`): Scene primitives in the world frame.
        layout (:obj:`StreetLayout`): Ground description (world frame).
        pose (Sequence[float]): Sensor pose ``(x, y, z, yaw)`` in the world;
            the sensor is level (no roll or pitch).
        cfg (:obj:`LidarConfig`): Sensor parameters.
        rng (np.random.Generator): Random generator.
        num_objects (int): Number of annotated objects (``obj`` values are
            in ``[0, num_objects)``). Defaults to 0.

    Returns:
        :obj:`Scan`: The simulated points and their per-point labels.
    """
    elev = cfg.elevations()
    elev = elev + rng.normal(0, np.deg2rad(0.02), elev.shape)
    n_b = len(elev)
    res = np.deg2rad(cfg.azimuth_res)
    n_c = int(round(2 * np.pi / res))
    az0 = -np.pi + rng.uniform(0, res)
    az = az0 + res * np.arange(n_c)
    ce = np.cos(elev)
    dirs = np.stack([
        ce[:, None] * np.cos(az)[None], ce[:, None] * np.sin(az)[None],
        np.repeat(np.sin(elev)[:, None], n_c, axis=1)
    ], axis=-1).reshape(-1, 3)
    n_rays = len(dirs)

    # ground: road level plane and the kerb-raised plane
    a, b, c = sensor_plane(layout.plane, pose)
    denom = dirs[:, 2] - a * dirs[:, 0] - b * dirs[:, 1]
    with np.errstate(divide='ignore', invalid='ignore'):
        t_low = np.where(denom < -1e-9, c / denom, np.inf)
        t_up = np.where(denom < -1e-9, (c + layout.curb_height) / denom,
                        np.inf)
    cyaw, syaw = np.cos(pose[3]), np.sin(pose[3])

    def to_world(t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        tt = np.where(np.isfinite(t), t, 0.)
        px, py = tt * dirs[:, 0], tt * dirs[:, 1]
        return (pose[0] + cyaw * px - syaw * py,
                pose[1] + syaw * px + cyaw * py)

    reg_up = layout.region(*to_world(t_up))
    reg_low = layout.region(*to_world(t_low))
    up_ok = np.isin(reg_up, RAISED_GROUND) & np.isfinite(t_up)
    t_best = np.where(up_ok, t_up, t_low)
    sem_best = np.where(up_ok, reg_up, reg_low)
    # rays crossing the kerb face hit it near the lower plane
    t_best = np.where(~up_ok & np.isin(reg_low, RAISED_GROUND),
                      t_low * 0.995, t_best)
    t_best = np.where(np.isfinite(t_best), t_best, np.inf)
    cos_best = np.abs(-denom) / np.sqrt(1 + a * a + b * b)
    prim_best = np.full(n_rays, -1, dtype=np.int64)

    # objects and clutter, with frustum culling on the (beam, column) grid
    sp = prims.to_sensor(pose)
    centers = sp.params[:, :3]
    radius = 0.5 * np.linalg.norm(sp.params[:, 3:6], axis=1)
    dist = np.linalg.norm(centers, axis=1)
    hdist = np.linalg.norm(centers[:, :2], axis=1)
    keep = np.nonzero(dist - radius < cfg.max_range)[0]
    obj_rays: List[List[np.ndarray]] = [[] for _ in range(num_objects)]
    all_cols = np.arange(n_c)
    all_rows = np.arange(n_b)
    for i in keep:
        if dist[i] <= radius[i] * 1.001:
            rows, cols = all_rows, all_cols
        else:
            half_el = np.arcsin(min(1., radius[i] / dist[i]))
            el_c = np.arcsin(centers[i, 2] / dist[i])
            r0, r1 = np.searchsorted(elev, [el_c - half_el, el_c + half_el])
            rows = all_rows[max(r0 - 1, 0):r1 + 1]
            if hdist[i] <= radius[i]:
                cols = all_cols
            else:
                half_az = np.arcsin(radius[i] / hdist[i])
                az_c = np.arctan2(centers[i, 1], centers[i, 0])
                c0 = int(np.floor((az_c - half_az - az0) / res)) - 1
                c1 = int(np.ceil((az_c + half_az - az0) / res)) + 1
                cols = np.arange(c0, c1 + 1) % n_c
                if len(cols) >= n_c:
                    cols = all_cols
        if len(rows) == 0 or len(cols) == 0:
            continue
        flat = (rows[:, None] * n_c + cols[None, :]).reshape(-1)
        t, cos = _intersect(int(sp.kind[i]), sp.params[i], dirs[flat])
        if sp.porosity[i] > 0:
            t[rng.random(len(t)) < sp.porosity[i]] = np.inf
        hit = t < cfg.max_range
        if not hit.any():
            continue
        o = sp.obj[i]
        if 0 <= o < num_objects:
            obj_rays[o].append(flat[hit])
        upd = hit & (t < t_best[flat])
        idx = flat[upd]
        t_best[idx] = t[upd]
        cos_best[idx] = cos[upd]
        prim_best[idx] = i
        sem_best[idx] = sp.sem[i]

    valid = (t_best < cfg.max_range) & (t_best > cfg.min_range)
    obj_all = np.where(prim_best >= 0, sp.obj[np.maximum(prim_best, 0)], -1)
    obj_visible = np.zeros(num_objects, dtype=np.int64)
    obj_total = np.zeros(num_objects, dtype=np.int64)
    if num_objects:
        vis = obj_all[valid]
        vis = vis[vis >= 0]
        obj_visible = np.bincount(vis, minlength=num_objects)[:num_objects]
        obj_total = np.array(
            [len(np.unique(np.concatenate(r))) if r else 0 for r in obj_rays],
            dtype=np.int64)

    # dropout grows with range
    t = t_best
    p_drop = cfg.dropout * (1 + np.minimum(t, cfg.max_range) / cfg.max_range)
    valid &= rng.random(n_rays) >= p_drop
    idx = np.nonzero(valid)[0]
    t = t[idx]
    prim = prim_best[idx]
    is_prim = prim >= 0
    rough = np.where(is_prim, sp.roughness[np.maximum(prim, 0)], 0.)
    noise_std = np.sqrt(cfg.range_noise**2 + rough**2)
    t = t + rng.normal(0, 1, len(t)) * noise_std
    xyz = dirs[idx] * t[:, None]
    # ground roughness: small vertical jitter, larger on terrain
    sem = sem_best[idx]
    ground = ~is_prim
    jitter = np.where(sem == SEM_IDS['terrain'], 0.03, 0.01)
    xyz[:, 2] += ground * rng.normal(0, 1, len(t)) * jitter
    refl = np.where(is_prim, sp.refl[np.maximum(prim, 0)],
                    _REFL_LUT[np.clip(sem, 0, len(_REFL_LUT) - 1)])
    inten = refl * (0.35 + 0.65 * cos_best[idx]) * np.exp(-t / 150.)
    inten = inten + rng.normal(0, cfg.intensity_noise, len(t))
    inten = np.round(np.clip(inten, 0., 0.99), 2)
    points = np.concatenate([xyz, inten[:, None]], axis=1).astype(np.float32)
    inst = np.where(is_prim, sp.inst[np.maximum(prim, 0)], 0)
    obj = np.where(is_prim, sp.obj[np.maximum(prim, 0)], -1)
    return Scan(
        points=points,
        sem=sem.astype(np.int64),
        inst=inst.astype(np.int64),
        obj=obj.astype(np.int64),
        ring=(idx // n_c).astype(np.int64),
        obj_visible=obj_visible,
        obj_total=obj_total)


# ---------------------------------------------------------------------------
# Object shapes. Each builder adds the parts of an object whose annotation
# box is ``(x, y, z, l, w, h, yaw)`` with ``(x, y, z)`` the bottom centre
# (mmdet3d's LiDAR box convention); all parts lie inside that box.
# ---------------------------------------------------------------------------


def _add_local_box(builder: SceneBuilder, box: Sequence[float],
                   center: Sequence[float], size: Sequence[float],
                   **kwargs) -> None:
    """Add a part given in the object frame (origin at the bottom centre)."""
    x, y, z, yaw = box[0], box[1], box[2], box[6]
    c, s = np.cos(yaw), np.sin(yaw)
    cx = x + c * center[0] - s * center[1]
    cy = y + s * center[0] + c * center[1]
    builder.add_box((cx, cy, z + center[2]), size, yaw, **kwargs)


def _add_local_ellipsoid(builder: SceneBuilder, box: Sequence[float],
                         center: Sequence[float], radii: Sequence[float],
                         **kwargs) -> None:
    """Add an ellipsoid given in the object frame."""
    x, y, z, yaw = box[0], box[1], box[2], box[6]
    c, s = np.cos(yaw), np.sin(yaw)
    cx = x + c * center[0] - s * center[1]
    cy = y + s * center[0] + c * center[1]
    builder.add_ellipsoid((cx, cy, z + center[2]), radii, yaw, **kwargs)


def add_car(builder: SceneBuilder, box: Sequence[float],
            rng: np.random.Generator, sem: int = SEM_IDS['car'],
            inst: int = 0, obj: int = -1) -> None:
    """Add a car: wheels, a lower body and a cabin.

    Args:
        builder (:obj:`SceneBuilder`): Builder to add the parts to.
        box (Sequence[float]): Annotation box ``(x, y, z, l, w, h, yaw)``.
        rng (np.random.Generator): Random generator for the shape.
        sem (int): Semantic id. Defaults to car (10).
        inst (int): Instance id. Defaults to 0.
        obj (int): Object index. Defaults to -1.
    """
    l, w, h = box[3], box[4], box[5]
    refl = rng.uniform(0.12, 0.6)
    kw = dict(sem=sem, inst=inst, obj=obj)
    clear = rng.uniform(0.12, 0.17) * h
    belt = rng.uniform(0.55, 0.62) * h
    _add_local_box(builder, box, (0, 0, 0.5 * (clear + belt)),
                   (l, w, belt - clear), refl=refl, **kw)
    cab_l = rng.uniform(0.45, 0.7) * l
    cab_x = rng.uniform(-0.12, 0.0) * l
    cab_x = np.clip(cab_x, -0.5 * l + 0.5 * cab_l, 0.5 * l - 0.5 * cab_l)
    _add_local_box(builder, box, (cab_x, 0, 0.5 * (belt + h)),
                   (cab_l, rng.uniform(0.82, 0.9) * w, h - belt),
                   refl=0.6 * refl, **kw)
    wheel_h = clear + 0.12 * h
    for sx in (-1, 1):
        for sy in (-1, 1):
            _add_local_box(
                builder, box, (sx * (0.5 * l - 0.18 * l), sy *
                               (0.5 * w - 0.11), 0.5 * wheel_h),
                (min(0.62, 0.2 * l), 0.2, wheel_h),
                refl=0.08,
                **kw)


def add_truck(builder: SceneBuilder, box: Sequence[float],
              rng: np.random.Generator, sem: int = SEM_IDS['truck'],
              inst: int = 0, obj: int = -1) -> None:
    """Add a truck: a cab in front of a tall cargo box (see add_car)."""
    l, w, h = box[3], box[4], box[5]
    kw = dict(sem=sem, inst=inst, obj=obj)
    cab_l = rng.uniform(1.8, 2.4)
    clear = 0.5
    _add_local_box(builder, box, (0.5 * l - 0.5 * cab_l, 0,
                                  0.5 * (clear + 0.8 * h)),
                   (cab_l, w, 0.8 * h - clear), **kw)
    _add_local_box(builder, box, (-0.5 * cab_l - 0.05, 0,
                                  0.5 * (clear + 0.2 + h)),
                   (l - cab_l - 0.1, w, h - clear - 0.2), **kw)
    for fx in (0.35, -0.3, -0.42):
        for sy in (-1, 1):
            _add_local_box(builder, box, (fx * l, sy * (0.5 * w - 0.15), 0.5),
                           (1.0, 0.3, 1.0), refl=0.08, **kw)


def add_bus(builder: SceneBuilder, box: Sequence[float],
            rng: np.random.Generator, sem: int = SEM_IDS['other_vehicle'],
            inst: int = 0, obj: int = -1) -> None:
    """Add a bus or tram: one long tall body on wheels (see add_car)."""
    l, w, h = box[3], box[4], box[5]
    kw = dict(sem=sem, inst=inst, obj=obj)
    _add_local_box(builder, box, (0, 0, 0.5 * (0.4 + h)), (l, w, h - 0.4),
                   refl=rng.uniform(0.3, 0.5), **kw)
    for fx in (0.35, -0.35):
        for sy in (-1, 1):
            _add_local_box(builder, box, (fx * l, sy * (0.5 * w - 0.15), 0.3),
                           (1.0, 0.3, 0.6), refl=0.08, **kw)


def add_pedestrian(builder: SceneBuilder, box: Sequence[float],
                   rng: np.random.Generator, sem: int = SEM_IDS['person'],
                   inst: int = 0, obj: int = -1) -> None:
    """Add a pedestrian: two legs, a torso with arms and a head.

    Args:
        builder (:obj:`SceneBuilder`): Builder to add the parts to.
        box (Sequence[float]): Annotation box ``(x, y, z, l, w, h, yaw)``.
        rng (np.random.Generator): Random generator for the pose.
        sem (int): Semantic id. Defaults to person (30).
        inst (int): Instance id. Defaults to 0.
        obj (int): Object index. Defaults to -1.
    """
    l, w, h = box[3], box[4], box[5]
    kw = dict(sem=sem, inst=inst, obj=obj, refl=rng.uniform(0.2, 0.45))
    leg_h = 0.47 * h
    stride = rng.uniform(0., 0.5) * (0.5 * l - 0.08)
    for sy, sx in ((-1, 1), (1, -1)):
        _add_local_box(builder, box, (sx * stride, sy * 0.09, 0.5 * leg_h),
                       (0.15, 0.14, leg_h), **kw)
    torso_w = min(0.42, w - 0.02)
    _add_local_box(builder, box, (0, 0, leg_h + 0.17 * h),
                   (min(0.26, l - 0.02), torso_w, 0.34 * h), **kw)
    for sy in (-1, 1):
        _add_local_box(builder, box,
                       (0, sy * (0.5 * torso_w + 0.04), leg_h + 0.13 * h),
                       (0.1, 0.08, 0.3 * h), **kw)
    head_r = min(0.11, 0.08 * h)
    _add_local_ellipsoid(builder, box, (0, 0, h - head_r * 1.15),
                         (head_r * 0.95, head_r * 0.85, head_r * 1.15), **kw)


def add_cycle(builder: SceneBuilder, box: Sequence[float],
              rng: np.random.Generator, sem: int, inst: int = 0,
              obj: int = -1, rider: bool = True,
              motor: bool = False) -> None:
    """Add a bicycle or motorcycle, with or without its rider.

    Args:
        builder (:obj:`SceneBuilder`): Builder to add the parts to.
        box (Sequence[float]): Annotation box ``(x, y, z, l, w, h, yaw)``.
        rng (np.random.Generator): Random generator for the shape.
        sem (int): Semantic id of all parts (e.g. bicyclist 31 for a
            rider and his bicycle, bicycle 11 for a parked bicycle).
        inst (int): Instance id. Defaults to 0.
        obj (int): Object index. Defaults to -1.
        rider (bool): Whether somebody rides it. Defaults to True.
        motor (bool): Motorcycle (heavier body) instead of a bicycle.
            Defaults to False.
    """
    l, w, h = box[3], box[4], box[5]
    kw = dict(sem=sem, inst=inst, obj=obj)
    wheel = min(0.68, 0.4 * l) if not motor else min(0.65, 0.32 * l)
    for sx in (-1, 1):
        _add_local_box(builder, box, (sx * (0.5 * l - 0.5 * wheel), 0,
                                      0.5 * wheel),
                       (wheel, 0.06 if not motor else 0.14, wheel),
                       refl=0.15, **kw)
    bike_top = wheel + 0.25 if not motor else wheel + 0.35
    if motor:
        _add_local_box(builder, box, (0, 0, 0.5 * (0.25 + bike_top)),
                       (l - 2 * wheel + 0.4, min(0.45, w - 0.05),
                        bike_top - 0.25), refl=rng.uniform(0.2, 0.6), **kw)
    else:
        _add_local_box(builder, box, (0, 0, 0.5 * (0.35 + bike_top)),
                       (l - wheel, 0.05, bike_top - 0.35), refl=0.3, **kw)
    # handle bar
    _add_local_box(builder, box, (0.5 * l - wheel, 0, bike_top + 0.05),
                   (0.06, min(0.6, w - 0.02), 0.06), refl=0.3, **kw)
    if not rider:
        return
    rkw = dict(kw, refl=rng.uniform(0.2, 0.45))
    seat = bike_top
    _add_local_box(builder, box, (-0.1, 0, seat - 0.2),
                   (0.35, min(0.32, w - 0.04), 0.5), **rkw)
    torso_h = max(0.25, h - seat - 0.25)
    _add_local_box(builder, box, (-0.02, 0, seat + 0.5 * torso_h),
                   (0.3, min(0.42, w - 0.04), torso_h), **rkw)
    _add_local_box(builder, box,
                   (0.5 * (0.5 * l - wheel) + 0.05, 0, seat + 0.6 * torso_h),
                   (max(0.1, 0.5 * l - wheel), min(0.5, w - 0.04), 0.08),
                   **rkw)
    head_r = 0.11
    _add_local_ellipsoid(builder, box, (0.02, 0, h - head_r * 1.1),
                         (head_r, head_r * 0.9, head_r * 1.1), **rkw)


# ---------------------------------------------------------------------------
# Street furniture.
# ---------------------------------------------------------------------------


@dataclass
class Street:
    """A street with its static clutter.

    Args:
        layout (:obj:`StreetLayout`): Ground layout.
        static (:obj:`SceneBuilder`): Static primitives (buildings,
            fences, vegetation, poles, signs).
        footprints (np.ndarray): BEV rectangles ``(x, y, l, w, yaw)`` of the
            static primitives standing on the ground, (K, 5), used to keep
            objects out of them.
    """
    layout: StreetLayout
    static: SceneBuilder
    footprints: np.ndarray


def _random_intervals(rng: np.random.Generator, x_min: float, x_max: float,
                      p: float, length: Tuple[float, float],
                      gap: Tuple[float, float]) -> np.ndarray:
    """Sample sorted disjoint intervals covering about a fraction ``p``."""
    out = []
    x = x_min + rng.uniform(*gap)
    while x < x_max:
        seg = rng.uniform(*length)
        if rng.random() < p:
            out.append((x, x + seg))
        x += seg + rng.uniform(*gap)
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def build_street(rng: np.random.Generator,
                 x_min: float,
                 x_max: float,
                 plane: Tuple[float, float, float],
                 building_prob: Tuple[float, float] = (0.7, 0.7),
                 guaranteed_x: Optional[Tuple[float, float]] = None
                 ) -> Street:
    """Sample a straight street with buildings, vegetation and poles.

    Args:
        rng (np.random.Generator): Random generator.
        x_min (float): Start of the street (world x).
        x_max (float): End of the street (world x).
        plane (Tuple[float, float, float]): Road surface ``(a, b, c)``.
        building_prob (Tuple[float, float]): Probability that a block on
            the right / left side holds a building rather than a yard.
            Defaults to (0.7, 0.7).
        guaranteed_x (Tuple[float, float], optional): If given, an x range
            along which a parking strip, terrain, an other-ground yard, a
            fence, a pole with a traffic sign and a tree (right side) and a
            building (left side) are forced to exist, so that every stuff
            class is present. Defaults to None.

    Returns:
        :obj:`Street`: The street.
    """
    n_lanes = int(rng.choice([1, 1, 2]))
    lane_w = rng.uniform(3.0, 3.6)
    road_hw = n_lanes * lane_w + rng.uniform(0.0, 0.6)
    park_w = rng.uniform(2.0, 2.6)
    sidewalk_w = (rng.uniform(1.5, 3.5), rng.uniform(1.5, 3.5))
    park_iv = [
        _random_intervals(rng, x_min, x_max, 0.5, (15, 60), (5, 30))
        for _ in range(2)
    ]
    og_iv = [
        _random_intervals(rng, x_min, x_max, 0.3, (5, 25), (5, 30))
        for _ in range(2)
    ]
    if guaranteed_x is not None:
        # right side of [g0, g1]: parking strip, terrain then a paved yard
        g0, g1 = guaranteed_x
        gm = 0.5 * (g0 + g1)
        for ivs, span in ((park_iv, (g0, g1)), (og_iv, (gm, g1))):
            iv = ivs[0]
            iv = iv[(iv[:, 1] < g0) | (iv[:, 0] > g1)]
            iv = np.concatenate([iv, np.array([span])])
            ivs[0] = iv[np.argsort(iv[:, 0])]
    layout = StreetLayout(road_hw, lane_w, park_w, sidewalk_w, park_iv,
                          og_iv, plane)
    static = SceneBuilder()
    feet: List[Tuple[float, float, float, float, float]] = []

    def ground_z(x: float, y: float) -> float:
        return float(layout.height(np.array(x), np.array(y)))

    def add_tree(x: float, y: float) -> None:
        r = rng.uniform(0.12, 0.28)
        top = rng.uniform(1.8, 3.5)
        z = ground_z(x, y)
        static.add_cylinder(x, y, z - 0.3, z + top + 0.5, r,
                            SEM_IDS['trunk'], roughness=0.01)
        rx, rz = rng.uniform(1.3, 3.0), rng.uniform(1.2, 2.6)
        static.add_ellipsoid((x, y, z + top + 0.8 * rz),
                             (rx, rx * rng.uniform(0.8, 1.2), rz),
                             rng.uniform(-np.pi, np.pi),
                             SEM_IDS['vegetation'], porosity=0.2,
                             roughness=0.08)
        feet.append((x, y, 2 * r + 0.2, 2 * r + 0.2, 0.))

    def add_pole(x: float, y: float, sign: bool) -> None:
        r = rng.uniform(0.05, 0.11)
        z = ground_z(x, y)
        height = rng.uniform(3.5, 8.0)
        static.add_cylinder(x, y, z - 0.2, z + height, r, SEM_IDS['pole'])
        feet.append((x, y, 2 * r + 0.2, 2 * r + 0.2, 0.))
        if sign:
            sw, sh = rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.8)
            zc = z + min(height - 0.5 * sh, rng.uniform(2.1, 2.9))
            dx = (r + 0.03) * (1 if rng.random() < 0.5 else -1)
            static.add_box((x + dx, y, zc), (0.04, sw, sh),
                           rng.normal(0, 0.1), SEM_IDS['traffic_sign'])

    for side in (0, 1):
        sgn = 1. if side else -1.
        prop = layout.prop_line(side)
        # blocks of buildings, or yards with fences, hedges and bushes
        x = x_min + rng.uniform(-10, 0)
        while x < x_max:
            if rng.random() < building_prob[side]:
                length = rng.uniform(8, 30)
                depth = rng.uniform(6, 15)
                height = rng.uniform(4, 16)
                setback = rng.uniform(0.5, 6)
                cx, cy = x + 0.5 * length, sgn * (prop + setback + 0.5 * depth)
                z = ground_z(cx, sgn * (prop + setback))
                static.add_box((cx, cy, z - 0.5 + 0.5 * height),
                               (length, depth, height + 1.0),
                               rng.normal(0, 0.02), SEM_IDS['building'],
                               refl=rng.uniform(0.15, 0.5))
                feet.append((cx, cy, length, depth, 0.))
                if setback > 2.5 and rng.random() < 0.6:
                    # front garden: a low hedge or bushes
                    hy = sgn * (prop + 0.5 * setback)
                    hh = rng.uniform(0.6, 1.5)
                    hw = min(1.2, setback - 1.2)
                    z = ground_z(cx, hy)
                    static.add_box((cx, hy, z + 0.5 * hh),
                                   (length * rng.uniform(0.5, 1.0), hw,
                                    hh + 0.2), 0., SEM_IDS['vegetation'],
                                   porosity=0.1, roughness=0.06)
                    feet.append((cx, hy, length, hw, 0.))
                x += length + rng.uniform(0, 6)
            else:
                length = rng.uniform(6, 20)
                if rng.random() < 0.6:
                    fy = sgn * (prop + rng.uniform(0.3, 2.0))
                    fh = rng.uniform(0.8, 2.0)
                    z = ground_z(x + 0.5 * length, fy)
                    static.add_box((x + 0.5 * length, fy, z + 0.5 * fh - 0.1),
                                   (length, 0.1, fh + 0.2), 0.,
                                   SEM_IDS['fence'], porosity=0.15,
                                   roughness=0.01)
                    feet.append((x + 0.5 * length, fy, length, 0.3, 0.))
                if rng.random() < 0.6:
                    # hedge behind the property line
                    hy = sgn * (prop + rng.uniform(2.5, 4.0))
                    hh, hw = rng.uniform(0.8, 1.8), rng.uniform(0.6, 1.5)
                    z = ground_z(x + 0.5 * length, hy)
                    static.add_box((x + 0.5 * length, hy, z + 0.5 * hh),
                                   (length * 0.9, hw, hh + 0.2), 0.,
                                   SEM_IDS['vegetation'], porosity=0.1,
                                   roughness=0.06)
                    feet.append((x + 0.5 * length, hy, length, hw, 0.))
                for _ in range(int(rng.integers(1, 6))):
                    bx = x + rng.uniform(0, length)
                    by = sgn * (prop + rng.uniform(1.0, 8.0))
                    rx, rz = rng.uniform(0.4, 1.4), rng.uniform(0.3, 1.0)
                    static.add_ellipsoid(
                        (bx, by, ground_z(bx, by) + 0.6 * rz),
                        (rx, rx * rng.uniform(0.7, 1.3), rz),
                        rng.uniform(-np.pi, np.pi), SEM_IDS['vegetation'],
                        porosity=0.2, roughness=0.06)
                    feet.append((bx, by, 2 * rx, 2 * rx, 0.))
                for _ in range(int(rng.integers(0, 3))):
                    add_tree(x + rng.uniform(0, length),
                             sgn * (prop + rng.uniform(1.0, 6.0)))
                x += length
        # street trees along the property line
        if rng.random() < 0.75:
            x = x_min + rng.uniform(0, 10)
            while x < x_max:
                add_tree(x, sgn * (prop - rng.uniform(0.4, 0.8)))
                x += rng.uniform(6, 14)
        # unlabelled street clutter on the sidewalk (bins, benches, boxes)
        x = x_min + rng.uniform(0, 20)
        while x < x_max:
            size = (rng.uniform(0.4, 2.0), rng.uniform(0.4, 0.8),
                    rng.uniform(0.5, 1.2))
            y = sgn * (prop - rng.uniform(0.3, 0.5) - 0.5 * size[1])
            z = ground_z(x, y)
            static.add_box((x, y, z + 0.5 * size[2]), size,
                           rng.normal(0, 0.05), SEM_IDS['unlabeled'],
                           refl=rng.uniform(0.1, 0.6))
            feet.append((x, y, size[0], size[1], 0.))
            x += rng.uniform(10, 40)
        # poles near the kerb, some carrying a traffic sign
        x = x_min + rng.uniform(0, 15)
        while x < x_max:
            curb = float(layout.curb_line(np.array(x), side))
            add_pole(x, sgn * (curb + rng.uniform(0.3, 0.6)),
                     rng.random() < 0.45)
            x += rng.uniform(12, 35)
    if guaranteed_x is not None:
        # make sure every stuff class is present near [g0, g1]
        prop = layout.prop_line(0)
        x = g0 + rng.uniform(1, 4)
        curb = float(layout.curb_line(np.array(x), 0))
        add_pole(x, -(curb + 0.45), True)
        add_tree(x + rng.uniform(3, 5), -(prop - 0.6))
        fy = -(prop + rng.uniform(1.0, 2.0))
        length = gm - g0 - 1
        z = ground_z(g0 + 0.5 * length, fy)
        static.add_box((g0 + 0.5 * length, fy, z + 0.6), (length, 0.1, 1.4),
                       0., SEM_IDS['fence'], porosity=0.15, roughness=0.01)
        feet.append((g0 + 0.5 * length, fy, length, 0.3, 0.))
        prop = layout.prop_line(1)
        depth, height = rng.uniform(6, 12), rng.uniform(5, 12)
        cx, cy = gm, prop + 1.5 + 0.5 * depth
        z = ground_z(cx, prop + 1.5)
        static.add_box((cx, cy, z - 0.5 + 0.5 * height),
                       (g1 - g0, depth, height + 1.0), 0., SEM_IDS['building'])
        feet.append((cx, cy, g1 - g0, depth, 0.))
    return Street(layout, static, np.array(feet, dtype=np.float64).reshape(
        -1, 5))

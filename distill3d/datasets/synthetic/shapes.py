# Copyright (c) distill3d contributors. All rights reserved.
"""Parametric 3D shapes for synthetic classification data sets.

A shape is a list of :class:`Part` primitives (box, cylinder, cone,
ellipsoid, torus), each with its size, centre and axis. Points are sampled
on the parts' surfaces in proportion to their area, with exact outward
normals.

A *class* is a :class:`ClassPrototype`: a structural family (one
primitive, table-like, stack, cross, shelf, handle, seat) and class-specific
parameters (proportions, part counts, primitive kinds) drawn from the class
seed. An *instance* multiplies every continuous parameter of its prototype
by ``exp(N(0, jitter))`` and may move parts, so shapes of one class vary
and classes of the same family differ only by their proportions: the
classes are learnable but not trivially separable.

Coordinates are z-up; shapes are returned centred at the origin and scaled
into the unit sphere, like ModelNet40's ``modelnet40_normal_resampled``.
"""
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Structural families of the class prototypes.
FAMILIES = ('single', 'table', 'stack', 'cross', 'shelf', 'handle', 'seat')
PRIMITIVES = ('box', 'cylinder', 'cone', 'ellipsoid', 'torus')


@dataclass
class Part:
    """One primitive of a shape.

    Args:
        kind (str): One of :data:`PRIMITIVES`.
        size (tuple[float]): Box: (sx, sy, sz) full extents. Cylinder /
            cone: (radius, height). Ellipsoid: (a, b, c) semi-axes. Torus:
            (major radius, minor radius).
        centre (tuple[float]): (x, y, z) centre.
        axis (str): Axis the primitive's own z axis is mapped to: 'x', 'y'
            or 'z'. Defaults to 'z'.
    """
    kind: str
    size: Tuple[float, ...]
    centre: Tuple[float, float, float] = (0., 0., 0.)
    axis: str = 'z'

    def area(self) -> float:
        """Surface area (approximate for ellipsoids)."""
        s = self.size
        if self.kind == 'box':
            return 2 * (s[0] * s[1] + s[1] * s[2] + s[0] * s[2])
        if self.kind == 'cylinder':
            return 2 * np.pi * s[0] * (s[0] + s[1])
        if self.kind == 'cone':
            return np.pi * s[0] * (s[0] + np.hypot(s[0], s[1]))
        if self.kind == 'ellipsoid':
            p = 1.6075  # Knud Thomsen's approximation
            a, b, c = s
            return 4 * np.pi * (((a * b)**p + (a * c)**p +
                                 (b * c)**p) / 3)**(1 / p)
        if self.kind == 'torus':
            return 4 * np.pi**2 * s[0] * s[1]
        raise ValueError(f'unknown primitive {self.kind!r}; valid: '
                         f'{PRIMITIVES}')


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _sample_box(rng, size, n):
    sx, sy, sz = size
    areas = np.array([sy * sz, sy * sz, sx * sz, sx * sz, sx * sy, sx * sy])
    face = rng.choice(6, size=n, p=areas / areas.sum())
    u = rng.uniform(-0.5, 0.5, size=(n, 3)) * np.array(size)
    axis = face // 2
    sign = np.where(face % 2 == 0, 1., -1.)
    half = np.array(size)[axis] / 2
    pts = u.copy()
    pts[np.arange(n), axis] = sign * half
    nrm = np.zeros((n, 3))
    nrm[np.arange(n), axis] = sign
    return pts, nrm


def _sample_cylinder(rng, size, n):
    r, h = size
    lateral, cap = 2 * np.pi * r * h, np.pi * r * r
    which = rng.choice(3, size=n, p=np.array([lateral, cap, cap]) /
                       (lateral + 2 * cap))
    theta = rng.uniform(0, 2 * np.pi, n)
    rad = np.where(which == 0, r, r * np.sqrt(rng.uniform(0, 1, n)))
    z = np.where(which == 0, rng.uniform(-h / 2, h / 2, n),
                 np.where(which == 1, h / 2, -h / 2))
    pts = np.stack([rad * np.cos(theta), rad * np.sin(theta), z], 1)
    nrm = np.zeros((n, 3))
    side = which == 0
    nrm[side] = np.stack([np.cos(theta[side]), np.sin(theta[side]),
                          np.zeros(side.sum())], 1)
    nrm[which == 1, 2] = 1.
    nrm[which == 2, 2] = -1.
    return pts, nrm


def _sample_cone(rng, size, n):
    r, h = size
    slant = np.hypot(r, h)
    lateral, base = np.pi * r * slant, np.pi * r * r
    side = rng.uniform(0, lateral + base, n) < lateral
    theta = rng.uniform(0, 2 * np.pi, n)
    t = np.sqrt(rng.uniform(0, 1, n))  # distance from the apex, area-uniform
    rad = np.where(side, r * t, r * np.sqrt(rng.uniform(0, 1, n)))
    z = np.where(side, h / 2 - h * t, -h / 2)
    pts = np.stack([rad * np.cos(theta), rad * np.sin(theta), z], 1)
    nrm = np.stack([np.cos(theta) * h, np.sin(theta) * h,
                    np.full(n, r)], 1) / slant
    nrm[~side] = (0., 0., -1.)
    return pts, nrm


def _sample_ellipsoid(rng, size, n):
    a, b, c = size
    d = _unit(rng.normal(size=(n, 3)))
    pts = d * np.array([a, b, c])
    nrm = _unit(pts / np.array([a * a, b * b, c * c]))
    return pts, nrm


def _sample_torus(rng, size, n):
    big, small = size
    theta = rng.uniform(0, 2 * np.pi, n)
    # area element ~ (R + r cos phi): rejection sampling of phi
    phi = np.empty(0)
    while len(phi) < n:
        cand = rng.uniform(0, 2 * np.pi, 2 * n)
        keep = rng.uniform(0, big + small, 2 * n) < big + small * np.cos(cand)
        phi = np.concatenate([phi, cand[keep]])
    phi = phi[:n]
    nrm = np.stack([np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta),
                    np.sin(phi)], 1)
    ring = np.stack([np.cos(theta), np.sin(theta), np.zeros(n)], 1) * big
    return ring + small * nrm, nrm


_SAMPLERS = dict(box=_sample_box, cylinder=_sample_cylinder,
                 cone=_sample_cone, ellipsoid=_sample_ellipsoid,
                 torus=_sample_torus)
#: maps the primitive's own (x, y, z) to the shape frame
_AXES = dict(z=[0, 1, 2], x=[2, 0, 1], y=[1, 2, 0])


def sample_surface(parts: Sequence[Part], num_points: int,
                   rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Sample points and outward normals on the parts' surfaces.

    Points are distributed over the parts in proportion to their areas
    (overlapping parts keep their hidden surfaces, as mesh soups do).

    Args:
        parts (Sequence[Part]): The shape.
        num_points (int): Number N of points.
        rng (np.random.Generator): Random generator.

    Returns:
        tuple[np.ndarray, np.ndarray]: (N, 3) points and (N, 3) unit
        normals.
    """
    areas = np.array([p.area() for p in parts])
    counts = rng.multinomial(num_points, areas / areas.sum())
    pts, nrms = [], []
    for part, count in zip(parts, counts):
        if count == 0:
            continue
        p, nrm = _SAMPLERS[part.kind](rng, part.size, count)
        order = np.argsort(_AXES[part.axis])
        pts.append(p[:, order] + np.asarray(part.centre))
        nrms.append(nrm[:, order])
    return np.concatenate(pts), _unit(np.concatenate(nrms))


def normalize_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre (N, 3) points at their bounding-box centre, scale into the
    unit sphere."""
    centre = (points.max(0) + points.min(0)) / 2
    points = points - centre
    return points / max(np.linalg.norm(points, axis=1).max(), 1e-12)


@dataclass
class ClassPrototype:
    """The parameters shared by every shape of one class.

    Args:
        name (str): Class name.
        family (str): One of :data:`FAMILIES`.
        params (dict): Continuous parameters (jittered per instance).
        kinds (dict): Discrete choices (primitive kinds, counts).
    """
    name: str
    family: str
    params: Dict[str, float] = field(default_factory=dict)
    kinds: Dict[str, object] = field(default_factory=dict)


def make_prototype(name: str, family: str,
                   rng: np.random.Generator) -> ClassPrototype:
    """Draw the class-specific parameters of a prototype.

    Args:
        name (str): Class name.
        family (str): One of :data:`FAMILIES`.
        rng (np.random.Generator): The class's random generator.

    Returns:
        ClassPrototype: The prototype.
    """
    if family not in FAMILIES:
        raise ValueError(f'unknown family {family!r}; valid: {FAMILIES}')
    u = rng.uniform
    p: Dict[str, float] = dict(sx=u(0.5, 2.0), sy=u(0.5, 2.0),
                               sz=u(0.5, 2.0))
    k: Dict[str, object] = {}
    solid = ('box', 'cylinder', 'cone', 'ellipsoid')
    if family == 'single':
        k['kind'] = str(rng.choice(PRIMITIVES))
        p['minor'] = u(0.15, 0.45)
    elif family == 'table':
        k['top'] = str(rng.choice(('box', 'cylinder')))
        k['legs'] = int(rng.choice((1, 3, 4)))
        p.update(top_t=u(0.05, 0.25), leg_h=u(0.4, 1.5), leg_r=u(0.03, 0.15),
                 inset=u(0.0, 0.3))
    elif family == 'stack':
        n = int(rng.integers(2, 4))
        k['kinds'] = [str(rng.choice(solid)) for _ in range(n)]
        for i in range(n):
            p[f'r{i}'] = u(0.15, 0.8)
            p[f'h{i}'] = u(0.2, 1.2)
    elif family == 'cross':
        k['body'] = str(rng.choice(('cylinder', 'ellipsoid', 'box')))
        k['tail'] = bool(rng.integers(0, 2))
        p.update(len=u(1.2, 2.5), body_r=u(0.1, 0.35), span=u(0.8, 2.5),
                 wing_t=u(0.03, 0.12), wing_c=u(0.15, 0.6), pos=u(-0.3, 0.3))
    elif family == 'shelf':
        k['shelves'] = int(rng.integers(1, 6))
        k['open'] = bool(rng.integers(0, 2))
        p.update(wall=u(0.02, 0.1))
    elif family == 'handle':
        k['body'] = str(rng.choice(('cylinder', 'cone', 'box')))
        k['handles'] = int(rng.choice((1, 2)))
        p.update(body_r=u(0.3, 0.8), body_h=u(0.4, 1.5), ring_R=u(0.15, 0.5),
                 ring_r=u(0.03, 0.1))
    elif family == 'seat':
        k['back'] = bool(rng.integers(0, 3) > 0)
        k['arms'] = bool(rng.integers(0, 2))
        k['legs'] = bool(rng.integers(0, 2))
        p.update(seat_t=u(0.1, 0.5), back_h=u(0.3, 1.2), back_t=u(0.05, 0.3),
                 leg_h=u(0.2, 0.8))
    return ClassPrototype(name, family, p, k)


def _box(size, centre, axis='z') -> Part:
    return Part('box', tuple(float(s) for s in size),
                tuple(float(c) for c in centre), axis)


def _round(kind: str, r: float, h: float, centre, axis='z') -> Part:
    if kind == 'ellipsoid':
        return Part(kind, (r, r, h / 2), tuple(centre), axis)
    if kind == 'box':
        return _box((2 * r, 2 * r, h), centre, axis)
    if kind == 'torus':
        return Part(kind, (r, max(min(h / 2, r * 0.6), 0.02)),
                    tuple(centre), axis)
    return Part(kind, (r, h), tuple(centre), axis)


def build_parts(proto: ClassPrototype, rng: np.random.Generator,
                jitter: float = 0.12) -> List[Part]:
    """The parts of one instance of a class.

    Args:
        proto (ClassPrototype): The class.
        rng (np.random.Generator): The instance's random generator.
        jitter (float): Std of the log-normal factor applied to every
            continuous parameter. Defaults to 0.12.

    Returns:
        list[Part]: The instance's parts (not normalised).
    """
    p = {key: val * float(np.exp(rng.normal(0, jitter)))
         for key, val in proto.params.items()}
    k = proto.kinds
    sx, sy, sz = p['sx'], p['sy'], p['sz']
    parts: List[Part] = []
    if proto.family == 'single':
        kind = k['kind']
        if kind == 'box':
            parts.append(_box((sx, sy, sz), (0, 0, 0)))
        elif kind == 'ellipsoid':
            parts.append(Part(kind, (sx / 2, sy / 2, sz / 2)))
        elif kind == 'torus':
            parts.append(Part(kind, (sx / 2, p['minor'] * sx / 2)))
        else:
            parts.append(Part(kind, ((sx + sy) / 4, sz)))
    elif proto.family == 'table':
        t, lh, lr = p['top_t'], p['leg_h'], p['leg_r']
        top_z = lh + t / 2
        if k['top'] == 'box':
            parts.append(_box((sx, sy, t), (0, 0, top_z)))
        else:
            parts.append(Part('cylinder', ((sx + sy) / 4, t), (0, 0, top_z)))
        legs = k['legs']
        if legs == 1:
            parts.append(Part('cylinder', (lr * 1.5, lh), (0, 0, lh / 2)))
            parts.append(Part('cylinder', ((sx + sy) / 8, lr), (0, 0, lr / 2)))
        else:
            ins = p['inset']
            ax, ay = sx / 2 * (1 - ins) - lr, sy / 2 * (1 - ins) - lr
            if legs == 4:
                spots = [(ax, ay), (-ax, ay), (ax, -ay), (-ax, -ay)]
            else:
                ang = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
                spots = list(zip(ax * np.cos(ang), ay * np.sin(ang)))
            for x, y in spots:
                parts.append(Part('cylinder', (lr, lh), (x, y, lh / 2)))
    elif proto.family == 'stack':
        z = 0.
        for i, kind in enumerate(k['kinds']):
            r, h = p[f'r{i}'], p[f'h{i}']
            parts.append(_round(kind, r, h, (0, 0, z + h / 2)))
            z += h
    elif proto.family == 'cross':
        length, br = p['len'], p['body_r']
        if k['body'] == 'box':
            parts.append(_box((length, 2 * br, 2 * br), (0, 0, 0)))
        elif k['body'] == 'ellipsoid':
            parts.append(Part('ellipsoid', (length / 2, br, br)))
        else:
            parts.append(Part('cylinder', (br, length), (0, 0, 0), 'x'))
        x = p['pos'] * length / 2
        parts.append(_box((p['wing_c'], p['span'], p['wing_t']), (x, 0, 0)))
        if k['tail']:
            tx = -length / 2 + p['wing_c'] / 3
            parts.append(_box((p['wing_c'] / 2, p['span'] / 3, p['wing_t']),
                              (tx, 0, br)))
            parts.append(_box((p['wing_c'] / 2, p['wing_t'], br * 2.5),
                              (tx, 0, br * 2)))
    elif proto.family == 'shelf':
        w = p['wall']
        parts += [_box((sx, w, sz), (0, sy / 2, sz / 2)),
                  _box((w, sy, sz), (sx / 2, 0, sz / 2)),
                  _box((w, sy, sz), (-sx / 2, 0, sz / 2)),
                  _box((sx, sy, w), (0, 0, 0)),
                  _box((sx, sy, w), (0, 0, sz))]
        for i in range(k['shelves']):
            z = sz * (i + 1) / (k['shelves'] + 1)
            parts.append(_box((sx, sy, w), (0, 0, z)))
        if not k['open']:
            parts.append(_box((sx, w, sz), (0, -sy / 2, sz / 2)))
    elif proto.family == 'handle':
        r, h = p['body_r'], p['body_h']
        parts.append(_round(k['body'], r, h, (0, 0, h / 2)))
        big, small = p['ring_R'], p['ring_r']
        for i in range(k['handles']):
            side = 1 if i == 0 else -1
            parts.append(Part('torus', (big, small),
                              (side * (r + big * 0.7), 0, h * 0.55), 'y'))
    elif proto.family == 'seat':
        st, lh = p['seat_t'], p['leg_h'] if k['legs'] else 0.
        seat_z = lh + st / 2
        parts.append(_box((sx, sy, st), (0, 0, seat_z)))
        if k['back']:
            bt, bh = p['back_t'], p['back_h']
            parts.append(_box((bt, sy, bh),
                              (-sx / 2 + bt / 2, 0, seat_z + st / 2 + bh / 2)))
        if k['arms']:
            for side in (1, -1):
                parts.append(_box((sx, st / 2 + 0.05, st * 1.5),
                                  (0, side * sy / 2, seat_z + st)))
        if k['legs']:
            for x in (sx / 2 - 0.05, -sx / 2 + 0.05):
                for y in (sy / 2 - 0.05, -sy / 2 + 0.05):
                    parts.append(Part('cylinder', (0.04, lh), (x, y, lh / 2)))
    # random placement noise of the parts (the first part is the anchor)
    for part in parts[1:]:
        part.centre = tuple(np.asarray(part.centre) +
                            rng.normal(0, jitter * 0.1, 3))
    return parts


#: Structural family of the known class names (ModelNet40, ScanObjectNN);
#: the proportions inside a family are drawn per class.
NAME_FAMILIES = dict(
    cross=('airplane', 'guitar', 'person', 'plant', 'stairs'),
    table=('table', 'desk', 'stool', 'tv_stand', 'piano', 'bench'),
    stack=('bottle', 'vase', 'lamp', 'cone', 'flower_pot'),
    shelf=('bookshelf', 'wardrobe', 'dresser', 'night_stand', 'range_hood',
           'glass_box', 'mantel', 'cabinet', 'shelf'),
    handle=('cup', 'bowl', 'sink', 'bathtub', 'bin'),
    seat=('chair', 'sofa', 'bed', 'toilet'),
    single=('car', 'keyboard', 'door', 'curtain', 'laptop', 'monitor',
            'radio', 'xbox', 'tent', 'bag', 'box', 'display', 'pillow'))


def family_of(name: str, index: int) -> str:
    """The family of a class: :data:`NAME_FAMILIES`, else round-robin."""
    for family, names in NAME_FAMILIES.items():
        if name in names:
            return family
    return FAMILIES[index % len(FAMILIES)]


#: Parameters that are offsets or fractions (may be 0 or negative): their
#: separation is the plain difference, not the difference of logs.
OFFSET_PARAMS = ('pos', 'inset')


def _log_proportions(proto: ClassPrototype) -> Dict[str, float]:
    """A prototype's continuous parameters as logs, yaw- and scale-free.

    The two horizontal extents are sorted (a random yaw swaps them), the
    three extents lose their mean log (every instance is scaled into the
    unit sphere), a single primitive's ``minor`` counts for a torus only
    (the only kind that uses it) and :data:`OFFSET_PARAMS` stay as they
    are (no log). The other lengths (leg height, radii, ...) are not
    rescaled, and parameters that a family or kind does not use (e.g. the
    extents of a stack, or a seat's back height without a back) still
    count: a parameter-space measure, not a shape distance.
    """
    p = dict(proto.params)
    if proto.family == 'single' and proto.kinds.get('kind') != 'torus':
        p.pop('minor', None)
    sx, sy = sorted((p.pop('sx'), p.pop('sy')))
    ext = np.log([sx, sy, p.pop('sz')])
    ext = ext - ext.mean()
    out = dict(ext_min=ext[0], ext_max=ext[1], ext_z=ext[2])
    out.update({key: float(val if key in OFFSET_PARAMS else np.log(val))
                for key, val in p.items()})
    return out


def prototype_separation(a: ClassPrototype, b: ClassPrototype) -> float:
    """How far apart two class prototypes are, in log-parameter units.

    ``inf`` when their families or discrete kinds (primitive kind, part
    and leg counts, ...) differ; else the largest absolute difference of
    their :func:`_log_proportions`. A separation well below the instance
    jitter (log-normal std of every parameter) means that no classifier
    can tell the two classes apart reliably.

    Args:
        a (ClassPrototype): One class.
        b (ClassPrototype): Another class.

    Returns:
        float: The separation.
    """
    if a.family != b.family or a.kinds != b.kinds:
        return float('inf')
    pa, pb = _log_proportions(a), _log_proportions(b)
    return max(abs(pa[key] - pb[key]) for key in pa)


def make_prototypes(names: Sequence[str], seed: int,
                    min_separation: float = 0.,
                    max_draws: int = 200,
                    shared_proportions: bool = False
                    ) -> List[ClassPrototype]:
    """One prototype per class name.

    Known names get their family from :data:`NAME_FAMILIES` (a table is
    table-like, a bottle a stack); unknown names cycle through
    :data:`FAMILIES`. The names are labels only: the proportions of every
    class are random draws from its seed.

    With ``min_separation`` > 0, a class closer than that to an earlier
    class (:func:`prototype_separation`: same family and discrete kinds,
    proportions within ``min_separation`` in every log parameter) is
    redrawn, up to ``max_draws`` times (then the farthest draw is kept).
    Classes of one family may still share their kinds and differ by
    proportions (learnable, fine-grained), but not by less than the
    margin. Why: with seed 0, ScanObjectNN's display, door and pillow all
    came out as ellipsoids whose proportions a random yaw makes
    indistinguishable (separation 0.05-0.19 at a jitter of 0.15; a
    1.47M-parameter PointNet++ recognised door 3% and pillow 19% of the
    time). 0 (the default) keeps the data sets of earlier studies
    bit-identical.

    With ``shared_proportions``, every class takes the continuous
    parameters of its family's first class (those it has) and differs from
    it only in its discrete kinds: which primitive, how many shelves, legs
    or handles, arms or not. Telling such classes apart takes the details
    of the shape (a fine-grained set), not its overall proportions;
    with ``min_separation`` > 0 the kinds are redrawn until they differ
    from every earlier class of the family (while combinations last; a
    class that stays too close is kept with a warning). Without it, two
    classes of a family may draw the same kinds and be identical.

    Args:
        names (Sequence[str]): Class names, in label order.
        seed (int): Seed of the class parameters.
        min_separation (float): Smallest separation to any earlier class.
            Defaults to 0.
        max_draws (int): Draws per class. Defaults to 200.
        shared_proportions (bool): Classes of a family share its first
            class's continuous parameters. Defaults to False.

    Returns:
        list[ClassPrototype]: Prototypes in label order.
    """
    if max_draws < 1:
        raise ValueError(f'max_draws must be >= 1, got {max_draws}')
    out: List[ClassPrototype] = []
    first: Dict[str, ClassPrototype] = {}
    for i, name in enumerate(names):
        rng = np.random.default_rng([seed, 7919, i])
        family = family_of(name, i)
        best = _draw_separated(
            name, family, rng, out, min_separation, max_draws,
            first.get(family) if shared_proportions else None)
        out.append(best)
        first.setdefault(family, best)
    return out


def _draw_separated(name: str, family: str, rng: np.random.Generator,
                    others: Sequence[ClassPrototype], min_separation: float,
                    max_draws: int,
                    shared_from: Optional[ClassPrototype] = None
                    ) -> ClassPrototype:
    """Draw a prototype at least ``min_separation`` from ``others``.

    Up to ``max_draws`` draws (one when ``min_separation`` <= 0); the
    farthest draw is kept, with a warning when it stays too close.
    ``shared_from`` gives its continuous parameters to every draw.
    """
    best, best_sep = None, -1.
    for _ in range(max_draws if min_separation > 0 else 1):
        proto = make_prototype(name, family, rng)
        if shared_from is not None:
            proto.params.update({
                key: val for key, val in shared_from.params.items()
                if key in proto.params})
        if min_separation <= 0:
            return proto
        sep = min((prototype_separation(proto, other) for other in others),
                  default=float('inf'))
        if sep > best_sep:
            best, best_sep = proto, sep
        if sep >= min_separation:
            break
    if best_sep < min_separation:
        warnings.warn(
            f'class {name!r} ({family}) keeps a separation of '
            f'{best_sep:.3f} < min_separation {min_separation} after '
            f'{max_draws} draws (its family has too few kinds or '
            'proportions left)')
    return best


def make_class_subtypes(names: Sequence[str], seed: int, subtypes: int,
                        min_separation: float,
                        max_draws: int = 200
                        ) -> List[List[ClassPrototype]]:
    """Several prototypes (subtypes) per class: a class is a mixture.

    Subtype 0 of every class is its :func:`make_prototypes` prototype (so
    ``subtypes=1`` gives the same classes); subtypes 1 .. K-1 are further
    draws in the class's family, e.g. a chair with and without arms, or
    of other proportions. Every prototype lies at least ``min_separation``
    from every prototype drawn before it, of its own class or another
    (:func:`prototype_separation`), so no subtype of one class can be
    mistaken for one of another and the classes stay separable. What it is
    for: a class that covers several distinct shapes takes more capacity
    to recognise than one prototype and its jitter, so a small student
    falls further behind a large teacher (the FAD benchmark's gate).

    Args:
        names (Sequence[str]): Class names, in label order.
        seed (int): Seed of the class parameters (as for
            :func:`make_prototypes`).
        subtypes (int): Prototypes per class, K >= 1.
        min_separation (float): Smallest separation to any earlier
            prototype; must be > 0 when K > 1 (without it two classes may
            share a subtype).
        max_draws (int): Draws per prototype. Defaults to 200.

    Returns:
        list[list[ClassPrototype]]: Per class (label order) its K
        subtypes, subtype 0 first.
    """
    if subtypes < 1:
        raise ValueError(f'subtypes must be >= 1, got {subtypes}')
    if subtypes > 1 and min_separation <= 0:
        raise ValueError(
            'subtypes > 1 needs min_separation > 0 (e.g. 3 x jitter): '
            'without it a subtype of one class may equal one of another')
    firsts = make_prototypes(names, seed, min_separation, max_draws)
    out = [[proto] for proto in firsts]
    drawn = list(firsts)
    for j in range(1, subtypes):
        for i, name in enumerate(names):
            rng = np.random.default_rng([seed, 7919, i, j])
            proto = _draw_separated(name, family_of(name, i), rng, drawn,
                                    min_separation, max_draws)
            out[i].append(proto)
            drawn.append(proto)
    return out


def sample_instance(proto: ClassPrototype, num_points: int,
                    rng: np.random.Generator, jitter: float = 0.12,
                    noise: float = 0.004) -> Tuple[np.ndarray, np.ndarray]:
    """Points and normals of one random instance of a class.

    The instance gets its parts (:func:`build_parts`), an anisotropic
    scale ``exp(N(0, jitter / 2))`` per axis, a yaw within +-15 degrees,
    surface points with Gaussian noise (std ``noise`` after normalisation)
    and is scaled into the unit sphere.

    Args:
        proto (ClassPrototype): The class.
        num_points (int): Number N of points.
        rng (np.random.Generator): The instance's random generator.
        jitter (float): Parameter jitter. Defaults to 0.12.
        noise (float): Point noise std. Defaults to 0.004.

    Returns:
        tuple[np.ndarray, np.ndarray]: (N, 3) float32 points in the unit
        sphere and (N, 3) float32 unit normals.
    """
    parts = build_parts(proto, rng, jitter)
    pts, nrm = sample_surface(parts, num_points, rng)
    scale = np.exp(rng.normal(0, jitter / 2, 3))
    pts = pts * scale
    nrm = _unit(nrm / scale)
    yaw = rng.uniform(-np.pi / 12, np.pi / 12)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    pts, nrm = pts @ rot.T, nrm @ rot.T
    pts = normalize_unit_sphere(pts)
    pts = pts + rng.normal(0, noise, pts.shape)
    order = rng.permutation(len(pts))
    return pts[order].astype(np.float32), nrm[order].astype(np.float32)

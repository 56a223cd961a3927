"""Row rules of traced torch tensors: which input rows each output row of a torch
function depends on.

A rule is called with the function's plain output, its arguments and the row maps of
its traced arguments (``{where: (map, shape)}``) and returns the output's row map(s)
and the argument positions it used; ``_RULES`` maps every modelled torch function,
method and operator to its rule. A function without a rule is not modelled: the
dispatch in :mod:`._torch` gives every output row every input row. This module is the
table; the rules are in :mod:`._torch_rules_basic` (element-wise functions and
reductions), :mod:`._torch_rules_shape` (reshapes, moved axes, selections),
:mod:`._torch_keys` (``x[key]``), :mod:`._torch_rules_combine` (joins and products)
and :mod:`._torch_rules_nn` (``torch.nn.functional`` layers).
"""

import torch
import torch.nn.functional as F

from ._torch_keys import _getitem
from ._torch_rules_basic import _elementwise, _empty, _reduction
from ._torch_rules_combine import (
    _addmm,
    _column_stack,
    _concat,
    _hstack,
    _matmul,
    _rmatmul,
    _stack,
    _vstack,
)
from ._torch_rules_nn import _batch_norm, _batched, _layer_norm, _linear, _loss, _normalize, _pad
from ._torch_rules_shape import (
    _expand,
    _flip,
    _gather,
    _index_select,
    _movedim_first,
    _moves,
    _narrow,
    _permute_first,
    _pieces,
    _repeat,
    _reshape_rule,
    _roll,
    _select,
    _squeeze,
    _t_first,
    _transpose_first,
    _unsqueeze,
)


def _funcs(names, namespaces=(torch, torch.Tensor, F)):
    found = []
    for name in names:
        for ns in namespaces:
            f = getattr(ns, name, None)
            if f is not None and callable(f):
                found.append(f)
    return found


_ELEMENTWISE = """add sub subtract mul multiply div divide true_divide floor_divide remainder fmod
pow
neg negative abs absolute exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square sin cos tan
tanh sigmoid relu sign sgn floor ceil round trunc frac clamp clip clamp_min clamp_max
maximum minimum fmax fmin where eq ne lt le gt ge logical_and logical_or logical_not
logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not isnan isinf isfinite nan_to_num
lerp addcmul addcdiv erf erfc reciprocal atan2 hypot float double half bfloat16 int long bool
to type type_as contiguous clone detach cpu cuda masked_fill softplus gelu leaky_relu elu
selu silu mish hardtanh relu6 dropout alpha_dropout dropout1d dropout2d dropout3d
isclose xlogy logit hardsigmoid hardswish tanhshrink softsign threshold sigmoid_ relu_
add_ sub_ mul_ div_ clamp_ pow_ neg_ abs_ exp_ log_ sqrt_ masked_fill_ nan_to_num_
clamp_min_ clamp_max_ tanh_ sigmoid_ requires_grad_ __add__ __radd__ __iadd__ __sub__
__rsub__ __isub__ __mul__ __rmul__ __imul__ __truediv__ __rtruediv__ __itruediv__ __div__
__rdiv__ __idiv__ __floordiv__ __rfloordiv__ __ifloordiv__ __mod__ __rmod__ __imod__
__pow__ __rpow__ __ipow__ __neg__ __pos__ __abs__ __and__ __rand__ __iand__ __or__ __ror__
__ior__ __xor__ __rxor__ __ixor__ __invert__ __lt__ __le__ __gt__ __ge__ __eq__ __ne__
__lshift__ __rlshift__ __rshift__ __rrshift__""".split()

_IN_PLACE_DUNDERS = {
    "__iadd__",
    "__isub__",
    "__imul__",
    "__itruediv__",
    "__idiv__",
    "__ifloordiv__",
    "__imod__",
    "__ipow__",
    "__iand__",
    "__ior__",
    "__ixor__",
    "__setitem__",
}

_RULES = {}
for _f in _funcs(_ELEMENTWISE):
    _RULES[_f] = _elementwise
for _f in _funcs(
    """sum mean std var prod amax amin argmax argmin logsumexp nanmean nansum
all any count_nonzero std_mean var_mean median nanmedian max min mode""".split()
):
    _RULES[_f] = _reduction()
for _f in _funcs("cumsum cumprod logcumsumexp cummax cummin softmax log_softmax".split()):
    _RULES[_f] = _reduction()
for _f in _funcs("sort argsort".split()):
    _RULES[_f] = _reduction(default=-1)
# the dimension comes after k (topk, kthvalue) or p (norm)
for _f in _funcs("topk kthvalue".split()):
    _RULES[_f] = _reduction(default=-1, pos=2)
for _f in _funcs(["norm"]):
    _RULES[_f] = _reduction(pos=2)
for _f in _funcs("reshape view flatten ravel unflatten view_as reshape_as".split()):
    _RULES[_f] = _reshape_rule
for _f in _funcs("permute".split()):
    _RULES[_f] = _moves(_permute_first)
for _f in _funcs("transpose swapaxes swapdims".split()):
    _RULES[_f] = _moves(_transpose_first)
for _f in _funcs("movedim moveaxis".split()):
    _RULES[_f] = _moves(_movedim_first)
for _f in _funcs(["t"]):
    _RULES[_f] = _moves(_t_first)
for _f in _funcs(["squeeze"]):
    _RULES[_f] = _squeeze
for _f in _funcs(["unsqueeze"]):
    _RULES[_f] = _unsqueeze
for _f in _funcs("expand expand_as broadcast_to".split()):
    _RULES[_f] = _expand
for _f in _funcs("repeat tile".split()):
    _RULES[_f] = _repeat
for _f in _funcs(["flip"]):
    _RULES[_f] = _flip
for _f in _funcs(["roll"]):
    _RULES[_f] = _roll
for _f in _funcs(["narrow"]):
    _RULES[_f] = _narrow
for _f in _funcs(["select"]):
    _RULES[_f] = _select
for _f in _funcs("split chunk tensor_split unbind".split()):
    _RULES[_f] = _pieces
for _f in _funcs(["index_select"]):
    _RULES[_f] = _index_select
for _f in _funcs(["gather"]):
    _RULES[_f] = _gather
for _f in _funcs("cat concat concatenate".split()):
    _RULES[_f] = _concat
for _f in _funcs(["stack"]):
    _RULES[_f] = _stack
for _f in _funcs("vstack row_stack".split()):
    _RULES[_f] = _vstack
for _f in _funcs(["hstack"]):
    _RULES[_f] = _hstack
for _f in _funcs(["column_stack"]):
    _RULES[_f] = _column_stack
for _f in _funcs("matmul mm bmm __matmul__ mv".split()):
    _RULES[_f] = _matmul
_RULES[torch.Tensor.__rmatmul__] = _rmatmul
for _f in _funcs(["addmm"]):
    _RULES[_f] = _addmm
for _f in _funcs(["linear"]):
    _RULES[_f] = _linear
for _f in _funcs(
    "zeros_like ones_like empty_like rand_like randn_like full_like new_zeros new_ones "
    "new_empty new_full".split()
):
    _RULES[_f] = _empty
for _f in _funcs(
    """cross_entropy nll_loss mse_loss l1_loss smooth_l1_loss huber_loss
binary_cross_entropy binary_cross_entropy_with_logits kl_div""".split(),
    (F,),
):
    _RULES[_f] = _loss
for _f in _funcs(["batch_norm"], (F,)):
    _RULES[_f] = _batch_norm
for _f in _funcs(["normalize"], (F,)):
    _RULES[_f] = _normalize
for _f in _funcs(["pad"], (F,)):
    _RULES[_f] = _pad
for _names, _nd in (
    (
        "conv1d conv_transpose1d max_pool1d avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d",
        (3,),
    ),
    (
        "conv2d conv_transpose2d max_pool2d avg_pool2d adaptive_avg_pool2d adaptive_max_pool2d",
        (4,),
    ),
    (
        "conv3d conv_transpose3d max_pool3d avg_pool3d adaptive_avg_pool3d adaptive_max_pool3d",
        (5,),
    ),
    ("layer_norm group_norm instance_norm interpolate one_hot embedding", None),
):
    for _f in _funcs(_names.split(), (F, torch)):
        _RULES[_f] = _batched(_nd)
for _f in _funcs(["layer_norm"], (F, torch)):
    _RULES[_f] = _layer_norm
_RULES[torch.Tensor.__getitem__] = _getitem
del _f, _names, _nd


def _in_place_name(name):
    return (name.endswith("_") and not name.endswith("__")) or name in _IN_PLACE_DUNDERS

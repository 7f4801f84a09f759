"""One pytest.raises(match=...) per error message of the layers, initializers and regularizers."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import initializers as I
from kernelscope import regularizers as R

L = ks.layers


def _built(layer, shape):
    layer(np.zeros(shape, "float32"))
    return layer


CASES = [
    # core helpers
    ("ndim", lambda: L.Conv2D(2, 3)(np.zeros((5, 5, 1))), ValueError,
     r"Input 0 of layer 'conv2d\w*' is incompatible with the layer: expected ndim=4, found ndim=3"),
    ("min_ndim", lambda: L.Dense(2)(np.zeros(3)), ValueError, r"expected min_ndim=2, found ndim=1"),
    ("unknown_last_axis", lambda: L.Dense(2)(ks.Input((None,))), ValueError,
     r"The last dimension \(features\) of the inputs to layer 'dense\w*' must be known"),
    ("positive_int", lambda: L.Dense(0), ValueError, r"Invalid value for argument `units`.*Received: units=0"),
    ("data_format", lambda: L.Conv2D(2, 3, data_format="channels_first"), ValueError,
     r"channels-last only: `data_format` must be None"),
    ("activation_type", lambda: L.Activation(3), TypeError, r"Could not interpret activation function identifier: 3"),
    ("unsupported", lambda: L.Dense(2, kernel_constraint=abs), NotImplementedError,
     r"`kernel_constraint` is not supported by kernelscope yet"),
    # conv
    ("strides_dilation", lambda: L.Conv2D(2, 3, strides=2, dilation_rate=2), ValueError,
     r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    ("kernel_size", lambda: L.Conv2D(2, 0), ValueError, r"`kernel_size` must be >= 1. Received: kernel_size=0"),
    ("padding", lambda: L.Conv2D(2, 3, padding="full"), ValueError, r"`padding` must be .*Received: padding='full'"),
    ("filters_groups", lambda: L.Conv2D(3, 3, groups=2), ValueError,
     r"The number of filters must be evenly divisible by the number of groups. Received: groups=2, filters=3"),
    ("channels_groups", lambda: L.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3))), ValueError,
     r"The number of input channels must be evenly divisible by the number of groups"),
    ("output_size", lambda: L.Conv2D(2, 5)(np.zeros((1, 3, 3, 1))), ValueError,
     r"Computed output size would be non-positive"),
    ("transpose_padding", lambda: L.Conv2DTranspose(2, 3, padding=1), ValueError,
     r'`padding` must be "valid" or "same" for Conv2DTranspose'),
    ("output_padding", lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     r"`output_padding` must be < `strides`"),
    # pooling
    ("pool_padding", lambda: L.MaxPooling2D(padding=1), ValueError, r'`padding` must be "valid" or "same"'),
    ("pool_window", lambda: L.MaxPooling2D(4)(ks.Input((3, 3, 1))), ValueError,
     r"the pooling window \(4, 4\) is larger than the input"),
    # batch normalization
    ("bn_axis", lambda: L.BatchNormalization(axis=(1, 2)), ValueError, r"`axis` must be an integer"),
    ("bn_momentum", lambda: L.BatchNormalization(momentum=1.5), ValueError, r"`momentum` must be a float in \[0, 1\]"),
    ("bn_epsilon", lambda: L.BatchNormalization(epsilon=0), ValueError, r"`epsilon` must be a positive float"),
    ("bn_axis_range", lambda: L.BatchNormalization(axis=3)(np.zeros((2, 3))), ValueError,
     r"`axis`=3 is out of range for inputs of shape \(2, 3\)"),
    ("bn_unknown_features", lambda: L.BatchNormalization()(ks.Input((None,))), ValueError,
     r"the feature axis -1 of the input must be known"),
    ("bn_features", lambda: _built(L.BatchNormalization(), (2, 3))(np.zeros((2, 4))), ValueError,
     r"expects inputs with 3 features on axis -1. Received: input of shape \(2, 4\)"),
    # activations
    ("relu_negative", lambda: L.ReLU(max_value=-1.0), ValueError,
     r"max_value of a ReLU layer cannot be None or a negative value"),
    ("leaky_negative", lambda: L.LeakyReLU(negative_slope=-0.1), ValueError,
     r"negative_slope of a LeakyReLU layer cannot be None or a negative value"),
    ("softmax_axis", lambda: L.Softmax(axis="x"), ValueError, r"`axis` must be an integer. Received: axis='x'"),
    # noise
    ("dropout_rate", lambda: L.Dropout(1.5), ValueError,
     r"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate=1.5"),
    ("noise_shape_rank", lambda: L.Dropout(0.5, noise_shape=(1, 2))(np.ones((2, 2, 2)), training=True),
     ValueError, r"`noise_shape` must have the input's rank 3"),
    ("stddev", lambda: L.GaussianNoise(-1), ValueError, r"Invalid value received for argument `stddev`"),
    # reshaping
    ("target_shape", lambda: L.Reshape((-1, -1)), ValueError, r"`target_shape` must be a tuple of positive integers"),
    ("reshape_size", lambda: L.Reshape((7,))(np.zeros((2, 3, 2))), ValueError,
     r"The total size of the tensor must be unchanged. Received: input_shape=\(2, 3, 2\), target_shape=\(7,\)"),
    ("padding_pairs", lambda: L.ZeroPadding2D((1, 2, 3)), ValueError, r"`padding` should be either a non-negative int"),
    ("cropping_pairs", lambda: L.Cropping2D(-1), ValueError, r"`cropping` should be either a non-negative int"),
    ("cropping_too_big", lambda: L.Cropping2D(2)(np.zeros((1, 4, 6, 1))), ValueError,
     r"Values in `cropping` argument should be smaller than the corresponding spatial dimension"),
    ("interpolation", lambda: L.UpSampling2D(interpolation="bicubic"), ValueError,
     r'`interpolation` must be "nearest" or "bilinear"'),
    # merging
    ("merge_list", lambda: L.Add()(ks.Input((3,))), ValueError,
     r"A merge layer \('add\w*'\) should be called on a list of at least one input"),
    ("merge_eager_list", lambda: L.Add().call(ks.Tensor(np.zeros(3))), ValueError,
     r"should be called on a list of inputs. Received: inputs of type Tensor"),
    ("merge_shapes", lambda: L.Add()([np.zeros((2, 3)), np.zeros((2, 4))]), ValueError,
     r"Inputs have incompatible shapes. Received shapes \(2, 3\) and \(2, 4\)"),
    ("concat_rank", lambda: L.Concatenate()([np.zeros((2, 3)), np.zeros((2, 3, 1))]), ValueError,
     r"A `Concatenate` layer requires inputs of the same rank"),
    ("concat_shapes", lambda: L.Concatenate()([np.zeros((2, 3)), np.zeros((3, 3))]), ValueError,
     r"requires inputs with matching shapes except for the concatenation axis"),
    ("concat_axis", lambda: L.Concatenate(axis=1.0), ValueError, r"`axis` must be an integer"),
    # preprocessing
    ("rescaling", lambda: L.Rescaling("a"), ValueError, r"`scale` must be a number. Received: scale='a'"),
    ("norm_both", lambda: L.Normalization(mean=1.0), ValueError, r"both `mean` and `variance` must be set"),
    ("norm_shapes", lambda: L.Normalization(mean=[1.0, 2.0], variance=1.0), ValueError,
     r"`mean` and `variance` must have the same shape"),
    ("norm_axis", lambda: L.Normalization(axis=3)(np.zeros((2, 3))), ValueError,
     r"All `axis` values must be in the range \[-ndim, ndim\)"),
    ("norm_unknown", lambda: L.Normalization()(ks.Input((None,))), ValueError,
     r"All `axis` values to be kept must have a known shape"),
    ("norm_empty", lambda: L.Normalization().adapt([]), ValueError, r"adapt\(\) received an empty iterable"),
    ("norm_fixed_adapt", lambda: L.Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 1))), ValueError,
     r"was given `mean` and `variance`; it cannot be adapted"),
    ("image_rank", lambda: L.RandomFlip()(np.zeros((2, 3))), ValueError,
     r"Expected image tensor to have rank 3 \(single image\) or 4"),
    ("fill_mode", lambda: L.RandomRotation(0.1, fill_mode="mirror"), ValueError, r"Unknown `fill_mode` 'mirror'"),
    ("geo_interpolation", lambda: L.RandomZoom(0.1, interpolation="area"), ValueError,
     r"Unknown `interpolation` 'area'"),
    ("flip_mode", lambda: L.RandomFlip("diagonal"), ValueError, r"received an unknown mode argument 'diagonal'"),
    ("factor", lambda: L.RandomRotation(1.5), ValueError,
     r"The `factor` argument should be a number \(or a list of two numbers\) in the range \[-1.0, 1.0\]"),
    ("contrast_factor", lambda: L.RandomContrast(-0.2), ValueError, r"in the range \[0.0, 1.0\]"),
    ("crop_size", lambda: L.RandomCrop(0, 3), ValueError, r"Invalid value for argument `height`"),
    # initializers
    ("init_dtype", lambda: I.Zeros()((2,), dtype="int32"), TypeError, r"Initializers produce floating-point weights"),
    ("init_seed", lambda: I.GlorotUniform(seed=-1), ValueError, r"`seed` must be None, a non-negative integer"),
    ("init_scale", lambda: I.VarianceScaling(scale=0), ValueError, r"`scale` must be a positive float"),
    ("init_mode", lambda: I.VarianceScaling(mode="fan"), ValueError, r"`mode` must be one of"),
    ("init_distribution", lambda: I.VarianceScaling(distribution="cauchy"), ValueError,
     r"`distribution` must be one of"),
    ("orthogonal_rank", lambda: I.Orthogonal()((3,)), ValueError,
     r"The tensor to initialize must be at least two-dimensional"),
    ("identity_rank", lambda: I.Identity()((2, 2, 2)), ValueError,
     r"Identity matrix initializer can only be used for 2D matrices"),
    ("init_class", lambda: I.get({"class_name": "Nope"}), ValueError, r"Unknown initializer class_name 'Nope'"),
    ("init_name", lambda: I.get("nope"), ValueError, r"Unknown initializer: 'nope'"),
    ("init_interpret", lambda: I.get(3), TypeError, r"Could not interpret initializer identifier: 3"),
    ("init_array", lambda: L.Dense(2, kernel_initializer=np.zeros((3, 3)))(np.zeros((1, 2))), ValueError,
     r"The initial value has shape \(3, 3\) but the weight has shape \(2, 2\)"),
    ("init_serialize", lambda: I.serialize(abs), TypeError, r"Cannot serialize initializer"),
    # regularizers
    ("reg_factor", lambda: R.L1(-0.1), ValueError, r"`l1` must be a non-negative float. Received: l1=-0.1"),
    ("reg_class", lambda: R.get({"class_name": "L3"}), ValueError, r"Unknown regularizer class_name 'L3'"),
    ("reg_name", lambda: R.get("l3"), ValueError, r"Unknown regularizer: 'l3'"),
    ("reg_interpret", lambda: R.get(3), TypeError, r"Could not interpret regularizer identifier: 3"),
    ("reg_serialize", lambda: R.serialize(abs), TypeError, r"Cannot serialize regularizer"),
]


@pytest.mark.parametrize("make, error, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(make, error, match):
    with pytest.raises(error, match=match):
        make()

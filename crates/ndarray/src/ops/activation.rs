use crate::{
    NdArray, NdArrayTensor, SharedArray,
    element::{FloatNdArrayElement, IntNdArrayElement, QuantElement},
    execute_with_numeric_dtype,
    ops::NdArrayMathOps,
};
use burn_backend::{ElementConversion, TensorMetadata, ops::ActivationOps, tensor::FloatTensor};

impl<E: FloatNdArrayElement, I: IntNdArrayElement, Q: QuantElement> ActivationOps<Self>
    for NdArray<E, I, Q>
where
    NdArrayTensor: From<SharedArray<E>>,
    NdArrayTensor: From<SharedArray<I>>,
{
    fn relu(tensor: FloatTensor<Self>) -> FloatTensor<Self> {
        execute_with_numeric_dtype!(tensor, |array| NdArrayMathOps::clamp_min(array, 0.elem()))
    }

    // burn-zoo patch: one pass in the tensor's own float type. The default (in burn-backend)
    // casts to f32 and runs exp, neg, add, log, neg, exp as six whole-tensor ops, and autodiff
    // recomputes it on the backward pass: three sigmoids per LSTM step made it a large share of
    // the seed LSTM's training time.
    fn sigmoid(tensor: FloatTensor<Self>) -> FloatTensor<Self> {
        crate::execute_with_float_dtype!(tensor, FloatElem, |array: SharedArray<FloatElem>| {
            array
                .mapv_into(|a: FloatElem| 1.0 / (1.0 + (-a).exp()))
                .into_shared()
        })
    }
}

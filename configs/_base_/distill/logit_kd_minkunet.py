# Logit KD on MinkUNet's voxel logits: the same term as Cylinder3D's
# (softmax KL at temperature T on `decode_head.conv_seg`), here a Linear
# over the (N, C) voxel features. Teacher and student voxelize the same
# batch alike (the same data_preprocessor), so their voxels correspond one
# to one.
_base_ = ['./logit_kd_cylinder3d.py']

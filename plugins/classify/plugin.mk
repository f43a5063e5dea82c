SRC_classify = core/textfeat.c

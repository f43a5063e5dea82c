SRC_classify = core/textfeat.c core/textmodel.c

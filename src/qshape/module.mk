$(eval $(call program,qshape,bin,global util))

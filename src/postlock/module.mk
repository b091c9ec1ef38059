$(eval $(call program,postlock,bin,global util))

$(eval $(call program,showq,libexec,global util))
